/// Malformed compressed data.
struct InflateError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A DEFLATE (RFC 1951) decoder for stored, fixed-Huffman and dynamic-Huffman blocks, and the zlib
/// (RFC 1950) wrapper around it. Written for reading PNGs: simple rather than fast, and it throws on any
/// malformed input, including output beyond a stated limit.
struct Inflate {
    private let input: [UInt8]
    private var position = 0
    private var bitBuffer: UInt32 = 0
    private var bitCount = 0
    private var output: [UInt8] = []
    private let limit: Int

    private init(_ input: [UInt8], limit: Int) {
        self.input = input
        self.limit = limit
    }

    /// Decompresses a zlib stream (header, deflate data, Adler-32), producing at most `limit` bytes.
    static func zlib(_ data: [UInt8], limit: Int) throws -> [UInt8] {
        guard data.count >= 6 else { throw InflateError("zlib stream too short") }
        let cmf = Int(data[0]), flg = Int(data[1])
        guard cmf & 0x0F == 8, cmf >> 4 <= 7, (cmf << 8 | flg) % 31 == 0 else { throw InflateError("bad zlib header") }
        guard flg & 0x20 == 0 else { throw InflateError("zlib preset dictionary not supported") }
        var inflater = Inflate(Array(data[2...]), limit: limit)
        try inflater.run()
        let p = inflater.position
        guard p + 4 <= inflater.input.count else { throw InflateError("zlib stream ends before its Adler-32") }
        let stored = inflater.input[p..<p + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard stored == Checksum.adler32(inflater.output) else { throw InflateError("zlib Adler-32 mismatch") }
        return inflater.output
    }

    private mutating func run() throws {
        var last = false
        while !last {
            last = try bits(1) == 1
            switch try bits(2) {
            case 0: try stored()
            case 1: try codes(Inflate.fixedLengths, Inflate.fixedDistances)
            case 2:
                let (lengths, distances) = try dynamicTables()
                try codes(lengths, distances)
            default: throw InflateError("invalid deflate block type 3")
            }
        }
    }

    private mutating func bits(_ n: Int) throws -> Int {
        while bitCount < n {
            guard position < input.count else { throw InflateError("compressed data ends early") }
            bitBuffer |= UInt32(input[position]) << UInt32(bitCount)
            position += 1
            bitCount += 8
        }
        let value = bitBuffer & ((1 << UInt32(n)) - 1)
        bitBuffer >>= UInt32(n)
        bitCount -= n
        return Int(value)
    }

    private mutating func append(_ byte: UInt8) throws {
        guard output.count < limit else { throw InflateError("decompressed data exceeds \(limit) bytes") }
        output.append(byte)
    }

    private mutating func stored() throws {
        bitBuffer = 0
        bitCount = 0
        guard position + 4 <= input.count else { throw InflateError("stored block header ends early") }
        let length = Int(input[position]) | Int(input[position + 1]) << 8
        let complement = Int(input[position + 2]) | Int(input[position + 3]) << 8
        position += 4
        guard length == ~complement & 0xFFFF else { throw InflateError("stored block length check failed") }
        guard position + length <= input.count else { throw InflateError("stored block ends early") }
        guard output.count + length <= limit else { throw InflateError("decompressed data exceeds \(limit) bytes") }
        output.append(contentsOf: input[position..<position + length])
        position += length
    }

    /// A canonical Huffman code: how many codes have each length, and the symbols in code order.
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) throws {
            for l in lengths { counts[l] += 1 }
            var left = 1
            for len in 1...15 {
                left = left * 2 - counts[len]
                guard left >= 0 else { throw InflateError("over-subscribed Huffman code") }
            }
            var offsets = [Int](repeating: 0, count: 16)
            for len in 1..<15 { offsets[len + 1] = offsets[len] + counts[len] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, l) in lengths.enumerated() where l != 0 {
                symbols[offsets[l]] = symbol
                offsets[l] += 1
            }
        }
    }

    private mutating func decode(_ h: Huffman) throws -> Int {
        var code = 0, first = 0, index = 0
        for len in 1...15 {
            code |= try bits(1)
            let count = h.counts[len]
            if code - first < count { return h.symbols[index + code - first] }
            index += count
            first = (first + count) << 1
            code <<= 1
        }
        throw InflateError("invalid Huffman code")
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                     67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                       1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10,
                                        11, 11, 12, 12, 13, 13]

    // Built from constant, valid code lengths, so construction cannot fail.
    private static let fixedLengths = try! Huffman(lengths: [Int](repeating: 8, count: 144) + [Int](repeating: 9, count: 112)
        + [Int](repeating: 7, count: 24) + [Int](repeating: 8, count: 8))
    private static let fixedDistances = try! Huffman(lengths: [Int](repeating: 5, count: 30))

    private mutating func codes(_ lengths: Huffman, _ distances: Huffman) throws {
        while true {
            let symbol = try decode(lengths)
            if symbol < 256 {
                try append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let li = symbol - 257
                guard li < Inflate.lengthBase.count else { throw InflateError("invalid length symbol \(symbol)") }
                let length = Inflate.lengthBase[li] + (try bits(Inflate.lengthExtra[li]))
                let di = try decode(distances)
                guard di < Inflate.distanceBase.count else { throw InflateError("invalid distance symbol \(di)") }
                let distance = Inflate.distanceBase[di] + (try bits(Inflate.distanceExtra[di]))
                guard distance <= output.count else { throw InflateError("distance \(distance) reaches before the start") }
                let start = output.count - distance
                for i in 0..<length { try append(output[start + i]) }
            }
        }
    }

    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private mutating func dynamicTables() throws -> (Huffman, Huffman) {
        let literalCount = try bits(5) + 257
        let distanceCount = try bits(5) + 1
        let codeLengthCount = try bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw InflateError("too many Huffman codes") }
        var codeLengthLengths = [Int](repeating: 0, count: 19)
        for i in 0..<codeLengthCount { codeLengthLengths[Inflate.codeLengthOrder[i]] = try bits(3) }
        let codeLengths = try Huffman(lengths: codeLengthLengths)
        var lengths: [Int] = []
        let total = literalCount + distanceCount
        while lengths.count < total {
            let symbol = try decode(codeLengths)
            let (value, repeats): (Int, Int)
            switch symbol {
            case 0..<16: (value, repeats) = (symbol, 1)
            case 16:
                guard let previous = lengths.last else { throw InflateError("length repeat with no previous length") }
                (value, repeats) = (previous, 3 + (try bits(2)))
            case 17: (value, repeats) = (0, 3 + (try bits(3)))
            default: (value, repeats) = (0, 11 + (try bits(7)))
            }
            guard lengths.count + repeats <= total else { throw InflateError("code lengths overrun") }
            lengths += [Int](repeating: value, count: repeats)
        }
        guard lengths[256] != 0 else { throw InflateError("no end-of-block code") }
        return (try Huffman(lengths: Array(lengths[..<literalCount])), try Huffman(lengths: Array(lengths[literalCount...])))
    }
}
