import Foundation

/// Writes float32 tensors as a safetensors file.
public enum SafetensorsWriter {
    /// Writes `tensors` (row-major Float data) to `path` as F32 safetensors, in the given order. The JSON
    /// header is padded with spaces to a multiple of 8 bytes. The file is written under a temporary name
    /// and then renamed, so `path` never holds a partial file. Throws `CheckpointError` naming the file
    /// (and tensor) when a name repeats, a shape does not match its data, or writing fails.
    public static func write(_ tensors: [(name: String, shape: [Int], data: [Float])], to path: String) throws {
        var header: [String: Any] = [:]
        var offset = 0
        for t in tensors {
            guard header[t.name] == nil, t.name != "__metadata__" else {
                throw CheckpointError(path, "tensor \(quoted(t.name)): name repeated or reserved")
            }
            let (count, overflow) = t.shape.reduce((1, false)) { acc, d in
                let m = acc.0.multipliedReportingOverflow(by: d); return (m.partialValue, acc.1 || m.overflow || d < 0)
            }
            guard !overflow, count == t.data.count else {
                throw CheckpointError(path, "tensor \(quoted(t.name)): shape \(t.shape) does not match its \(t.data.count) values")
            }
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * count]]
            offset += 4 * count
        }
        var json: Data
        do {
            json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw CheckpointError(path, "cannot encode safetensors header: \(error)")
        }
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))

        let temporary = "\(path).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporary) else {
            throw CheckpointError(path, "cannot create \(temporary)")
        }
        do {
            defer { try? handle.close() }
            var length = Data(count: 8)
            length.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(json.count).littleEndian, as: UInt64.self) }
            try handle.write(contentsOf: length)
            try handle.write(contentsOf: json)
            for t in tensors {
                var bytes = Data(count: 4 * t.data.count)
                bytes.withUnsafeMutableBytes { out in
                    for (i, v) in t.data.enumerated() {
                        out.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                    }
                }
                try handle.write(contentsOf: bytes)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CheckpointError(path, "cannot write file: \(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw CheckpointError(path, "cannot rename \(temporary) into place (\(reason))")
        }
    }
}
