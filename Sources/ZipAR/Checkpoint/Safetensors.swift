import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping names to
/// {dtype, shape, data_offsets}, then the data. The mapping is used in place; nothing is copied.
enum Safetensors {
    /// Largest header accepted (the limit of the reference implementation).
    static let maxHeaderBytes = 100_000_000

    /// One tensor's header entry.
    private struct Entry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    /// The header's tensors by name ("__metadata__" is skipped).
    private struct Header: Decodable {
        var entries: [(String, Result<Entry, Error>)] = []

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: JSONKey.self)
            for key in c.allKeys where key.stringValue != "__metadata__" {
                entries.append((key.stringValue, Result { try c.decode(Entry.self, forKey: key) }))
            }
        }
    }

    static func read(_ file: MappedFile) throws -> Checkpoint {
        var r = ByteReader(file.bytes, file: file.path)
        guard r.remaining >= 8 else { throw CheckpointError(file.path, "not a safetensors or .pt file (too short)") }
        let headerLength = try r.uint(UInt64.self)
        guard headerLength <= UInt64(maxHeaderBytes) else {
            throw CheckpointError(file.path, "not a safetensors file: a header of \(headerLength) bytes is larger than the \(maxHeaderBytes) accepted")
        }
        guard headerLength <= UInt64(r.remaining) else {
            throw CheckpointError(file.path, "not a safetensors file, or truncated (header length \(headerLength) exceeds the file)")
        }
        let headerBytes = try r.take(Int(headerLength))
        let data = UnsafeRawBufferPointer(rebasing: file.bytes[r.offset...])
        try JSONInput.check(headerBytes, file: file.path)
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else {
            throw CheckpointError(file.path, "safetensors header is not a JSON object")
        }
        var tensors: [String: TensorEntry] = [:]
        for (name, result) in header.entries {
            guard case let .success(info) = result, info.data_offsets.count == 2 else {
                throw CheckpointError(file.path, "tensor \(quoted(name)): malformed header entry")
            }
            guard let dtype = DType(rawValue: info.dtype) else {
                throw CheckpointError(file.path, "tensor \(quoted(name)): unsupported dtype \(quoted(info.dtype))")
            }
            let (begin, end) = (info.data_offsets[0], info.data_offsets[1])
            guard begin >= 0, end >= begin, end <= data.count else {
                throw CheckpointError(file.path, "tensor \(quoted(name)) data [\(begin), \(end)) lies outside the file's \(data.count) data bytes: truncated or corrupt")
            }
            let region = UnsafeRawBufferPointer(rebasing: data[begin..<end])
            let entry = try TensorEntry(name: name, dtype: dtype, shape: info.shape,
                                        strides: TensorEntry.contiguousStrides(info.shape), offset: 0,
                                        storage: region, file: file)
            guard entry.count.multipliedReportingOverflow(by: dtype.size) == (end - begin, false) else {
                throw CheckpointError(file.path, "tensor \(quoted(name)): \(end - begin) bytes for shape \(info.shape) \(info.dtype)")
            }
            tensors[name] = entry
        }
        return Checkpoint(path: file.path, tensors: tensors)
    }
}
