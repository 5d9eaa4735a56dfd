import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping names to
/// {dtype, shape, data_offsets}, then the data. The mapping is used in place; nothing is copied.
enum Safetensors {
    static func read(_ file: MappedFile) throws -> Checkpoint {
        var r = ByteReader(file.bytes, file: file.path)
        guard r.remaining >= 8 else { throw CheckpointError(file.path, "not a safetensors or .pt file (too short)") }
        let headerLength = try r.uint(UInt64.self)
        guard headerLength <= UInt64(r.remaining) else {
            throw CheckpointError(file.path, "not a safetensors file, or truncated (header length \(headerLength) exceeds the file)")
        }
        let headerBytes = try r.take(Int(headerLength))
        let dataStart = r.offset
        let data = UnsafeRawBufferPointer(rebasing: file.bytes[dataStart...])
        guard let json = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any] else {
            throw CheckpointError(file.path, "safetensors header is not a JSON object")
        }
        var tensors: [String: TensorEntry] = [:]
        for (name, value) in json where name != "__metadata__" {
            guard let info = value as? [String: Any],
                  let dtypeName = info["dtype"] as? String,
                  let shape = (info["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offsets = (info["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  offsets.count == 2, shape.count == (info["shape"] as? [Any])?.count
            else { throw CheckpointError(file.path, "tensor '\(name)': malformed header entry") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw CheckpointError(file.path, "tensor '\(name)': unsupported dtype \(dtypeName)")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= data.count else {
                throw CheckpointError(file.path, "tensor '\(name)' data [\(begin), \(end)) lies outside the file's \(data.count) data bytes: truncated or corrupt")
            }
            let region = UnsafeRawBufferPointer(rebasing: data[begin..<end])
            let entry = try TensorEntry(name: name, dtype: dtype, shape: shape,
                                        strides: TensorEntry.contiguousStrides(shape), offset: 0,
                                        storage: region, file: file)
            guard entry.count * dtype.size == end - begin else {
                throw CheckpointError(file.path, "tensor '\(name)': \(end - begin) bytes for shape \(shape) \(dtypeName)")
            }
            tensors[name] = entry
        }
        return Checkpoint(path: file.path, tensors: tensors)
    }
}
