import Foundation

/// A read-only, memory-mapped file. Tensors point into it without copying; it stays mapped while any
/// reference to it lives.
public final class MappedFile: @unchecked Sendable {
    /// The path it was opened from (for error messages).
    public let path: String
    /// The file's bytes.
    public let bytes: UnsafeRawBufferPointer

    /// Maps `path` read-only. Throws `CheckpointError` naming the file when it cannot be opened.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw CheckpointError(path, "cannot open file (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CheckpointError(path, "cannot stat file") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw CheckpointError(path, "is a directory, not a file") }
        let size = Int(st.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw CheckpointError(path, "cannot map file (\(String(cString: strerror(errno))))")
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

/// A bounds-checked little-endian reader over a byte range.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int
    let file: String

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0, file: String) {
        self.bytes = bytes
        self.offset = offset
        self.file = file
    }

    var remaining: Int { bytes.count - offset }

    mutating func require(_ n: Int) throws {
        guard n >= 0, offset >= 0, n <= bytes.count - offset else {
            throw CheckpointError(file, "truncated: needs \(n) bytes at offset \(offset), file has \(bytes.count)")
        }
    }

    mutating func u8() throws -> UInt8 {
        try require(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint<T: FixedWidthInteger>(_: T.Type) throws -> T {
        try require(MemoryLayout<T>.size)
        var v: T = 0
        withUnsafeMutableBytes(of: &v) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + MemoryLayout<T>.size]))
        }
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        try require(n)
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])
    }
}
