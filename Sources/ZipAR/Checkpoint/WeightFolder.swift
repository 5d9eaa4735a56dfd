import Foundation

/// The weights of a Hugging Face model folder as one set of named tensors: a single
/// `model.safetensors` or `pytorch_model.bin`, or shards listed by `model.safetensors.index.json` /
/// `pytorch_model.bin.index.json` (their `weight_map`). Every file is memory-mapped; no tensor is read
/// until it is asked for, so tensors a model does not need are never copied into memory.
public enum WeightFolder {
    /// The single files and index files looked for, in order of preference.
    static let singles = ["model.safetensors", "pytorch_model.bin", "model.pt"]
    static let indexes = ["model.safetensors.index.json", "pytorch_model.bin.index.json"]

    /// Opens the weights of `directory`. Errors name the folder, the index or the shard.
    public static func open(_ directory: String) throws -> Checkpoint {
        let fm = FileManager.default
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        for name in indexes where fm.fileExists(atPath: path(name)) {
            return try openSharded(index: path(name), directory: directory)
        }
        for name in singles where fm.fileExists(atPath: path(name)) {
            return try Checkpoint.open(path(name))
        }
        throw CheckpointError(directory, "no weights in this folder (expected \((singles + indexes).joined(separator: ", ")))")
    }

    private struct Index: Decodable {
        let weight_map: [String: String]
    }

    /// Every shard the index names, merged; a tensor the index places in a shard must be in that shard.
    static func openSharded(index: String, directory: String) throws -> Checkpoint {
        let map = try ModelFiles.decodeJSON(Index.self, at: index).weight_map
        var shards: [String: Checkpoint] = [:]
        for file in Set(map.values).sorted() {
            guard !file.contains("/"), !file.hasPrefix(".") else {
                throw CheckpointError(index, "shard name \(quoted(file)) is not a file in this folder")
            }
            let p = (directory as NSString).appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: p) else {
                throw CheckpointError(index, "shard \(quoted(file)) named in the index is missing from the folder")
            }
            shards[file] = try Checkpoint.open(p)
        }
        var tensors: [String: TensorEntry] = [:]
        for (name, file) in map {
            guard let entry = shards[file]!.tensors[name] else {
                throw CheckpointError((directory as NSString).appendingPathComponent(file), "tensor \(quoted(name)) listed in the index is not in this shard")
            }
            tensors[name] = entry
        }
        return Checkpoint(path: directory, tensors: tensors)
    }
}

extension Checkpoint {
    /// The tensors whose names start with `prefix`, renamed by dropping the prefix and then by `rename`
    /// (nil drops the tensor): how one family's file holds a sub-model under another naming scheme.
    public func view(prefix: String, rename: (String) -> String? = { $0 }) -> Checkpoint {
        var out: [String: TensorEntry] = [:]
        for (name, entry) in tensors where name.hasPrefix(prefix) {
            if let new = rename(String(name.dropFirst(prefix.count))) { out[new] = entry }
        }
        return Checkpoint(path: path, tensors: out)
    }
}
