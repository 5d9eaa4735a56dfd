import Foundation

/// A PNG that cannot be written or read: names the file and says what went wrong, in one line.
public struct PNGError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Writes 8-bit RGB pixels (`height` rows of `width` pixels, R G B each) as a PNG at `path`. The file is
/// written beside `path` under a temporary name and then renamed, so `path` never holds a partial PNG.
public func writePNG(rgb: [UInt8], width: Int, height: Int, to path: String) throws {
    let bytes = try PNG.encode(rgb: rgb, width: width, height: height, path: path)
    try PNG.writeAtomically(bytes, to: path)
}

/// Writes an image as PNG, atomically (see `writePNG(rgb:width:height:to:)`).
public func writePNG(_ image: RGBImage, to path: String) throws {
    try writePNG(rgb: image.pixels, width: image.width, height: image.height, to: path)
}

/// The bytes of `image` as a PNG file, in memory (the same bytes `writePNG` writes).
public func encodePNG(_ image: RGBImage) throws -> [UInt8] {
    try PNG.encode(rgb: image.pixels, width: image.width, height: image.height, path: "(in memory)")
}

/// Reads an 8-bit, non-interlaced RGB or RGBA PNG (alpha is dropped).
public func readPNG(_ path: String) throws -> RGBImage {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw PNGError(path, "cannot read file")
    }
    return try PNG.decode([UInt8](data), path: path)
}

/// PNG encoding (filter 0, stored deflate blocks) and decoding (8-bit RGB/RGBA, non-interlaced).
enum PNG {
    static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
    /// Largest width or height accepted, either way.
    static let maxSide = 1 << 14

    /// The bytes of a PNG holding `rgb`; `path` only names the file in errors.
    static func encode(rgb: [UInt8], width: Int, height: Int, path: String) throws -> [UInt8] {
        guard (1...maxSide).contains(width), (1...maxSide).contains(height) else {
            throw PNGError(path, "cannot write a \(width)×\(height) PNG (each side 1 to \(maxSide))")
        }
        guard rgb.count == width * height * 3 else {
            throw PNGError(path, "\(rgb.count) bytes of pixels for a \(width)×\(height) RGB image (needs \(width * height * 3))")
        }
        let stride = width * 3
        var raw = [UInt8]()
        raw.reserveCapacity(height * (stride + 1))
        for y in 0..<height {
            raw.append(0)
            raw.append(contentsOf: rgb[y * stride..<(y + 1) * stride])
        }
        var header = [UInt8]()
        header.append(contentsOf: bigEndian(UInt32(width)))
        header.append(contentsOf: bigEndian(UInt32(height)))
        header.append(contentsOf: [8, 2, 0, 0, 0])  // bit depth 8, colour type RGB, deflate, filter 0, no interlace
        var png = signature
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", zlibStored(raw), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// A zlib stream holding `data` in stored (uncompressed) deflate blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var start = 0
        repeat {
            let length = min(65535, data.count - start)
            let final: UInt8 = start + length == data.count ? 1 : 0
            out.append(final)
            out.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)])
            out.append(contentsOf: data[start..<start + length])
            start += length
        } while start < data.count
        out.append(contentsOf: bigEndian(Checksum.adler32(data)))
        return out
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        png.append(contentsOf: bigEndian(UInt32(data.count)))
        png.append(contentsOf: typeBytes)
        png.append(contentsOf: data)
        png.append(contentsOf: bigEndian(Checksum.crc32(data, continuing: Checksum.crc32(typeBytes))))
    }

    /// Writes `bytes` to a new temporary file in `path`'s directory, then renames it to `path`.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp").path
        func failure(_ what: String) -> PNGError {
            PNGError(path, "cannot write PNG: \(what) (\(String(cString: strerror(errno))))")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw failure("cannot create a file in its directory") }
        var written = 0
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                written += n
            }
            return true
        }
        let writeError = ok ? nil : failure("write failed")
        let closed = close(fd) == 0
        if let error = writeError ?? (closed ? nil : failure("close failed")) {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot rename the temporary file into place")
            unlink(temporary)
            throw error
        }
    }

    /// Decodes an 8-bit, non-interlaced RGB or RGBA PNG into RGB (alpha dropped). Checks every chunk's
    /// CRC and the zlib Adler-32; `path` only names the file in errors.
    static func decode(_ bytes: [UInt8], path: String) throws -> RGBImage {
        func bad(_ message: String) -> PNGError { PNGError(path, "not a readable PNG: \(message)") }
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw bad("missing PNG signature") }
        func u32(_ at: Int) -> Int {
            Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
        }
        var position = 8
        var header: (width: Int, height: Int, channels: Int)?
        var compressed: [UInt8] = []
        var ended = false
        while !ended {
            guard position + 12 <= bytes.count else { throw bad("truncated chunk") }
            let length = u32(position)
            guard length <= bytes.count - position - 12 else { throw bad("chunk runs past the end of the file") }
            let type = String(decoding: bytes[position + 4..<position + 8], as: UTF8.self)
            let data = bytes[position + 8..<position + 8 + length]
            let crc = UInt32(u32(position + 8 + length))
            guard Checksum.crc32(bytes[position + 4..<position + 8 + length]) == crc else { throw bad("CRC mismatch in \(quoted(type)) chunk") }
            position += 12 + length
            switch type {
            case "IHDR":
                guard length == 13, header == nil else { throw bad("malformed IHDR") }
                let d = Array(data)
                let width = Int(d[0]) << 24 | Int(d[1]) << 16 | Int(d[2]) << 8 | Int(d[3])
                let height = Int(d[4]) << 24 | Int(d[5]) << 16 | Int(d[6]) << 8 | Int(d[7])
                guard (1...maxSide).contains(width), (1...maxSide).contains(height) else { throw bad("size \(width)×\(height) not supported") }
                guard d[8] == 8, d[9] == 2 || d[9] == 6 else { throw bad("only 8-bit RGB and RGBA are supported (bit depth \(d[8]), colour type \(d[9]))") }
                guard d[10] == 0, d[11] == 0, d[12] == 0 else { throw bad("interlaced or unknown compression/filter method") }
                header = (width, height, d[9] == 6 ? 4 : 3)
            case "IDAT":
                guard header != nil else { throw bad("IDAT before IHDR") }
                compressed.append(contentsOf: data)
            case "IEND":
                ended = true
            default:
                break
            }
        }
        guard let (width, height, channels) = header else { throw bad("no IHDR chunk") }
        let stride = width * channels
        let raw: [UInt8]
        do {
            raw = try Inflate.zlib(compressed, limit: height * (stride + 1))
        } catch let error as InflateError {
            throw bad("image data: \(error.description)")
        }
        guard raw.count == height * (stride + 1) else { throw bad("image data has \(raw.count) bytes, expected \(height * (stride + 1))") }
        let pixels = try unfilter(raw, width: width, height: height, channels: channels, bad: bad)
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<width * height {
            for c in 0..<3 { rgb[i * 3 + c] = pixels[i * channels + c] }
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }

    /// Undoes PNG's per-row filters (None, Sub, Up, Average, Paeth).
    private static func unfilter(_ raw: [UInt8], width: Int, height: Int, channels bpp: Int,
                                 bad: (String) -> PNGError) throws -> [UInt8] {
        let stride = width * bpp
        var out = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            let src = y * (stride + 1) + 1
            let row = y * stride
            for x in 0..<stride {
                let a = x >= bpp ? Int(out[row + x - bpp]) : 0
                let b = y > 0 ? Int(out[row - stride + x]) : 0
                let c = x >= bpp && y > 0 ? Int(out[row - stride + x - bpp]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw bad("unknown filter type \(filter) in row \(y)")
                }
                out[row + x] = UInt8(truncatingIfNeeded: Int(raw[src + x]) + predictor)
            }
        }
        return out
    }
}
