/// The entries of a ZIP archive (ZIP64 included) held in a mapped file, read in place. Only stored
/// (uncompressed) entries can be read, which is how PyTorch writes its archives. Every offset is checked
/// against the file; a truncated or malformed archive is a `CheckpointError` naming the file.
struct ZipArchive {
    /// One archive member, located by its central-directory record and local header.
    struct Entry {
        let name: String
        /// Compression method (0 = stored).
        let method: UInt16
        let compressedSize: Int
        let size: Int
        /// The CRC-32 the central directory records for the member's bytes.
        let crc32: UInt32
        /// Offset of the member's bytes in the file.
        let dataOffset: Int
    }

    let file: MappedFile
    /// Members in central-directory order.
    let entries: [Entry]
    private let index: [String: Int]

    private static let eocdSignature: UInt32 = 0x0605_4b50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    private static let zip64EOCDSignature: UInt32 = 0x0606_4b50
    private static let centralSignature: UInt32 = 0x0201_4b50
    private static let localSignature: UInt32 = 0x0403_4b50

    /// Reads the central directory of the archive in `file`.
    init(_ file: MappedFile) throws {
        self.file = file
        let bytes = file.bytes
        let eocd = try Self.findEOCD(file)
        var r = ByteReader(bytes, offset: eocd + 10, file: file.path)
        var count = Int(try r.uint(UInt16.self))
        var directorySize = Int(try r.uint(UInt32.self))
        var directoryOffset = Int(try r.uint(UInt32.self))

        // ZIP64: a locator just before the end record points at the ZIP64 end record, whose fields win.
        if eocd >= 20 {
            var loc = ByteReader(bytes, offset: eocd - 20, file: file.path)
            if try loc.uint(UInt32.self) == Self.zip64LocatorSignature {
                loc.offset += 4
                let recordOffset = try Self.int(try loc.uint(UInt64.self), "ZIP64 end record offset", file)
                var rec = ByteReader(bytes, offset: recordOffset, file: file.path)
                guard try rec.uint(UInt32.self) == Self.zip64EOCDSignature else {
                    throw CheckpointError(file.path, "malformed ZIP64 archive: no ZIP64 end record at offset \(recordOffset)")
                }
                rec.offset += 28
                count = try Self.int(try rec.uint(UInt64.self), "ZIP64 entry count", file)
                directorySize = try Self.int(try rec.uint(UInt64.self), "ZIP64 directory size", file)
                directoryOffset = try Self.int(try rec.uint(UInt64.self), "ZIP64 directory offset", file)
            }
        }
        guard directoryOffset <= bytes.count, directorySize <= bytes.count - directoryOffset,
              count <= directorySize / 46 else {
            throw CheckpointError(file.path, "truncated or malformed ZIP archive: central directory (\(count) entries, \(directorySize) bytes at offset \(directoryOffset)) does not fit the file's \(bytes.count) bytes")
        }

        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var index: [String: Int] = [:]
        var cd = ByteReader(bytes, offset: directoryOffset, file: file.path)
        for _ in 0..<count {
            let entry = try Self.readCentralRecord(&cd, file)
            if index[entry.name] == nil { index[entry.name] = entries.count }
            entries.append(entry)
        }
        self.entries = entries
        self.index = index
    }

    /// True when the archive has a member called `name`.
    func contains(_ name: String) -> Bool { index[name] != nil }

    /// The bytes of member `name`, in place, their CRC-32 checked when `verify` is set. Throws when it is
    /// missing, compressed or (verified) corrupt.
    func data(_ name: String, verify: Bool = false) throws -> UnsafeRawBufferPointer {
        guard let i = index[name] else { throw CheckpointError(file.path, "archive has no entry \(quoted(name))") }
        let e = entries[i]
        guard e.method == 0, e.compressedSize == e.size else {
            throw CheckpointError(file.path, "archive entry \(quoted(name)) is compressed (method \(e.method)); only stored entries can be read")
        }
        let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[e.dataOffset..<e.dataOffset + e.size])
        if verify {
            let crc = Checksum.crc32(bytes)
            guard crc == e.crc32 else {
                throw CheckpointError(file.path, "archive entry \(quoted(name)) fails its CRC-32 check (recorded \(hex(e.crc32)), computed \(hex(crc))): the file is corrupt")
            }
        }
        return bytes
    }

    private func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }

    /// Offset of the end-of-central-directory record: the last signature whose comment ends the file.
    private static func findEOCD(_ file: MappedFile) throws -> Int {
        let bytes = file.bytes
        guard bytes.count >= 22 else { throw CheckpointError(file.path, "truncated ZIP archive (\(bytes.count) bytes)") }
        let lowest = max(0, bytes.count - 22 - 0xffff)
        var pos = bytes.count - 22
        while pos >= lowest {
            if bytes[pos] == 0x50, bytes[pos + 1] == 0x4b, bytes[pos + 2] == 0x05, bytes[pos + 3] == 0x06 {
                let commentLength = Int(bytes[pos + 20]) | Int(bytes[pos + 21]) << 8
                if pos + 22 + commentLength == bytes.count { return pos }
            }
            pos -= 1
        }
        throw CheckpointError(file.path, "truncated or malformed ZIP archive: no end-of-central-directory record")
    }

    /// Reads one central-directory record at `r` and resolves its local header to the data offset.
    private static func readCentralRecord(_ r: inout ByteReader, _ file: MappedFile) throws -> Entry {
        let at = r.offset
        guard try r.uint(UInt32.self) == centralSignature else {
            throw CheckpointError(file.path, "malformed ZIP archive: bad central directory record at offset \(at)")
        }
        r.offset += 6
        let method = try r.uint(UInt16.self)
        r.offset += 4
        let crc32 = try r.uint(UInt32.self)
        var compressedSize = UInt64(try r.uint(UInt32.self))
        var size = UInt64(try r.uint(UInt32.self))
        let nameLength = Int(try r.uint(UInt16.self))
        let extraLength = Int(try r.uint(UInt16.self))
        let commentLength = Int(try r.uint(UInt16.self))
        r.offset += 8
        var localOffset = UInt64(try r.uint(UInt32.self))
        let name = String(decoding: try r.take(nameLength), as: UTF8.self)
        var extra = ByteReader(try r.take(extraLength), file: file.path)
        _ = try r.take(commentLength)

        // ZIP64 extended information: present fields follow in this order, only for saturated values.
        while extra.remaining >= 4 {
            let id = try extra.uint(UInt16.self)
            let length = Int(try extra.uint(UInt16.self))
            guard length <= extra.remaining else {
                throw CheckpointError(file.path, "malformed ZIP archive: bad extra field in entry \(quoted(name))")
            }
            var field = ByteReader(try extra.take(length), file: file.path)
            guard id == 0x0001 else { continue }
            do {
                if size == 0xffff_ffff { size = try field.uint(UInt64.self) }
                if compressedSize == 0xffff_ffff { compressedSize = try field.uint(UInt64.self) }
                if localOffset == 0xffff_ffff { localOffset = try field.uint(UInt64.self) }
            } catch {
                throw CheckpointError(file.path, "malformed ZIP archive: short ZIP64 field in entry \(quoted(name))")
            }
        }

        let offset = try int(localOffset, "offset of entry \(quoted(name))", file)
        let csize = try int(compressedSize, "size of entry \(quoted(name))", file)
        let usize = try int(size, "size of entry \(quoted(name))", file)
        var local = ByteReader(file.bytes, offset: offset, file: file.path)
        guard local.remaining >= 30, try local.uint(UInt32.self) == localSignature else {
            throw CheckpointError(file.path, "truncated or malformed ZIP archive: no local header for entry \(quoted(name)) at offset \(offset)")
        }
        local.offset = offset + 26
        let localNameLength = Int(try local.uint(UInt16.self))
        let localExtraLength = Int(try local.uint(UInt16.self))
        let dataOffset = offset + 30 + localNameLength + localExtraLength
        guard dataOffset <= file.bytes.count, csize <= file.bytes.count - dataOffset else {
            throw CheckpointError(file.path, "truncated ZIP archive: entry \(quoted(name)) (\(csize) bytes at offset \(dataOffset)) runs past the end of the file (\(file.bytes.count) bytes)")
        }
        return Entry(name: name, method: method, compressedSize: csize, size: usize, crc32: crc32, dataOffset: dataOffset)
    }

    /// `value` as an Int no larger than the file, else an error naming `what`.
    private static func int(_ value: UInt64, _ what: String, _ file: MappedFile) throws -> Int {
        guard value <= UInt64(file.bytes.count) else {
            throw CheckpointError(file.path, "truncated or malformed ZIP archive: \(what) (\(value)) exceeds the file's \(file.bytes.count) bytes")
        }
        return Int(value)
    }
}
