import Foundation

/// One tensor in a checkpoint: its type and shape, and where its elements lie in a mapped file.
/// Elements are addressed as `storage[offset + Σ index_i · strides_i]` (in elements), so views that
/// share a storage (PyTorch) and contiguous blobs (safetensors) read alike. Bounds were checked when the
/// entry was made: every addressed element lies inside `storage`.
public struct TensorEntry: @unchecked Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Element strides, in elements of `dtype`.
    public let strides: [Int]
    /// First element, in elements of `dtype`, from the start of `storage`.
    public let offset: Int
    /// The bytes of the storage this tensor views.
    let storage: UnsafeRawBufferPointer
    /// Keeps the mapping alive.
    let file: MappedFile

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// True when elements are laid out row-major without gaps.
    public var isContiguous: Bool { strides == TensorEntry.contiguousStrides(shape) }

    /// Row-major strides of `shape`. They wrap when the element count overflows, which `init` refuses.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc = acc &* shape[i] }
        return s
    }

    /// Most dimensions a tensor may have (PyTorch allows 64; weights use up to 5).
    static let maxDimensions = 64

    /// Makes an entry after checking that every element it addresses lies within `storage`.
    init(name: String, dtype: DType, shape: [Int], strides: [Int], offset: Int,
         storage: UnsafeRawBufferPointer, file: MappedFile) throws {
        guard shape.count <= TensorEntry.maxDimensions else {
            throw CheckpointError(file.path, "tensor \(quoted(name)): \(shape.count) dimensions (at most \(TensorEntry.maxDimensions) are read)")
        }
        guard shape.count == strides.count, shape.allSatisfy({ $0 >= 0 }), offset >= 0 else {
            throw CheckpointError(file.path, "tensor \(quoted(name)): invalid shape \(shape) / strides \(strides)")
        }
        let (count, overflow) = shape.reduce((1, false)) { acc, d in
            let m = acc.0.multipliedReportingOverflow(by: d); return (m.partialValue, acc.1 || m.overflow)
        }
        guard !overflow else { throw CheckpointError(file.path, "tensor \(quoted(name)): shape \(shape) is too large") }
        if count > 0 {
            var last = offset
            for (d, s) in zip(shape, strides) {
                guard s >= 0 else { throw CheckpointError(file.path, "tensor \(quoted(name)): negative stride") }
                let (m, o1) = (d - 1).multipliedReportingOverflow(by: s)
                let (a, o2) = last.addingReportingOverflow(m)
                guard !o1, !o2 else { throw CheckpointError(file.path, "tensor \(quoted(name)): strides overflow") }
                last = a
            }
            let (end, o3) = (last + 1).multipliedReportingOverflow(by: dtype.size)
            guard !o3, end <= storage.count else {
                throw CheckpointError(file.path, "tensor \(quoted(name)) \(shape) \(dtype.rawValue) reads past its data (\(storage.count) bytes): file truncated or corrupt")
            }
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.storage = storage
        self.file = file
    }

    /// The elements as Float, row-major, converted from the stored type.
    public func floats() -> [Float] {
        let n = count
        guard n > 0, let base = storage.baseAddress else { return [] }
        return [Float](unsafeUninitializedCapacity: n) { out, initialized in
            if isContiguous, dtype == .float32, 1.littleEndian == 1 {
                UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: base + offset * 4, byteCount: n * 4)
            } else if isContiguous {
                for i in 0..<n { out[i] = dtype.float(at: offset + i, in: base) }
            } else {
                var index = [Int](repeating: 0, count: shape.count)
                for i in 0..<n {
                    var e = offset
                    for d in 0..<shape.count { e += index[d] * strides[d] }
                    out[i] = dtype.float(at: e, in: base)
                    var d = shape.count - 1
                    while d >= 0 { index[d] += 1; if index[d] < shape[d] { break }; index[d] = 0; d -= 1 }
                }
            }
            initialized = n
        }
    }

    /// Row `r` of a 2-D tensor as Float into `out` (shape[1] values), read in place: an embedding lookup
    /// that touches only that row's bytes.
    public func copyRow(_ r: Int, to out: UnsafeMutablePointer<Float>) {
        precondition(shape.count == 2 && r >= 0 && r < shape[0], "row \(r) outside tensor \(quoted(name)) \(shape)")
        guard let base = storage.baseAddress else { return }
        let start = offset + r * strides[0], n = shape[1]
        if strides[1] == 1, dtype == .float32, 1.littleEndian == 1 {
            UnsafeMutableRawPointer(out).copyMemory(from: base + start * 4, byteCount: n * 4)
        } else if strides[1] == 1, dtype == .bfloat16 {
            for i in 0..<n { out[i] = bfloat16Value(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * (start + i), as: UInt16.self))) }
        } else {
            for i in 0..<n { out[i] = dtype.float(at: start + i * strides[1], in: base) }
        }
    }

    /// Rows `range` of a 2-D tensor as Float, row-major, into `out` (range.count × shape[1] values).
    func copyRows(_ range: Range<Int>, to out: UnsafeMutablePointer<Float>) {
        for r in range { copyRow(r, to: out + (r - range.lowerBound) * shape[1]) }
    }

    /// Drops the mapped pages holding this tensor's bytes from the process's resident memory (they are
    /// read again from the file if touched): called once a tensor has been converted, so loading keeps
    /// one copy of the weights resident, not two. Does nothing for bytes not mapped from the file (a
    /// decompressed archive member).
    public func releasePages() {
        guard count > 0 else { return }
        var last = offset
        for (d, st) in zip(shape, strides) { last += (d - 1) * st }
        release(elements: offset..<last + 1, wholePagesOnly: false)
    }

    /// Drops the mapped pages that lie wholly within rows `range` of a 2-D tensor whose rows are disjoint
    /// and in order (strides [≥ shape[1], 1]), once they have been read: packing a large matrix then keeps
    /// only the rows in flight resident. Pages shared with other rows stay (releasePages drops them).
    func releasePages(rows range: Range<Int>) {
        guard shape.count == 2, strides[1] == 1, strides[0] >= shape[1], !range.isEmpty else { return }
        let first = offset + range.lowerBound * strides[0], last = offset + (range.upperBound - 1) * strides[0] + shape[1]
        release(elements: first..<last, wholePagesOnly: true)
    }

    /// madvise(MADV_DONTNEED) over the pages of elements `range` of the storage: every page they touch, or
    /// only the pages wholly inside. Nothing for bytes not mapped from the file.
    private func release(elements range: Range<Int>, wholePagesOnly: Bool) {
        guard let base = storage.baseAddress, let fileBase = file.bytes.baseAddress,
              base >= fileBase, base + storage.count <= fileBase + file.bytes.count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let from = Int(bitPattern: base) + range.lowerBound * dtype.size, to = Int(bitPattern: base) + range.upperBound * dtype.size
        let start = (wholePagesOnly ? from + page - 1 : from) / page * page
        let end = (wholePagesOnly ? to : to + page - 1) / page * page
        guard end > start else { return }
        madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, Int32(MADV_DONTNEED))
    }

    /// A pointer to the elements when they are contiguous float32 in place (no copy needed), else nil.
    public var contiguousFloat32: UnsafeBufferPointer<Float>? {
        guard dtype == .float32, isContiguous, let base = storage.baseAddress else { return nil }
        let p = base + offset * 4
        guard Int(bitPattern: p) % MemoryLayout<Float>.alignment == 0 else { return nil }
        return UnsafeBufferPointer(start: p.assumingMemoryBound(to: Float.self), count: count)
    }
}

/// A weight file's tensors by name: safetensors or a PyTorch .pt (zip + pickle), chosen by content.
public final class Checkpoint: @unchecked Sendable {
    /// The file's path.
    public let path: String
    /// Every tensor, by its full name (a .pt's wrapper such as "model." is not part of it).
    public let tensors: [String: TensorEntry]

    init(path: String, tensors: [String: TensorEntry]) {
        self.path = path
        self.tensors = tensors
    }

    /// Opens a checkpoint. A file starting with "PK" is read as a PyTorch zip archive, anything else as
    /// safetensors. `verify` also checks the CRC-32 of a .pt archive's storages (see `TorchCheckpoint`).
    /// Errors name the file and what is wrong with it.
    public static func open(_ path: String, verify: Bool = false) throws -> Checkpoint {
        let file = try MappedFile(path: path)
        if file.bytes.count >= 2, file.bytes[0] == 0x50, file.bytes[1] == 0x4b {
            return try TorchCheckpoint.read(file, verifyStorages: verify)
        }
        return try Safetensors.read(file)
    }

    /// Names in sorted order.
    public var names: [String] { tensors.keys.sorted() }

    /// The entry for `name`, or an error naming the file and the key.
    public func entry(_ name: String) throws -> TensorEntry {
        guard let e = tensors[name] else { throw CheckpointError(path, "missing weight \(quoted(name))") }
        return e
    }

    /// The tensor `name` as row-major Float, after checking its shape is `shape`.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        let e = try entry(name)
        guard e.shape == shape else {
            throw CheckpointError(path, "weight \(quoted(name)) has shape \(e.shape), expected \(shape)")
        }
        return e.floats()
    }

    /// `floats(_:shape:)`, then the tensor's mapped pages are dropped (a loader that keeps its own copy).
    func floatsReleasingPages(_ name: String, shape: [Int]) throws -> [Float] {
        let values = try floats(name, shape: shape)
        tensors[name]?.releasePages()
        return values
    }
}
