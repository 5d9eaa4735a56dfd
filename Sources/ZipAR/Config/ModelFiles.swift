import Foundation

/// A model folder as the conformance cases and exported models lay it out: config.json beside
/// model.safetensors or model.pt.
public enum ModelFiles {
    /// The weight file in `directory`: model.safetensors, else model.pt.
    public static func weights(in directory: String) throws -> String {
        for name in ["model.safetensors", "model.pt"] {
            let p = (directory as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        throw CheckpointError(directory, "no model.safetensors or model.pt in this folder")
    }

    /// Decodes `directory/config.json` as `T`; errors name the file and the field.
    public static func config<T: Decodable>(_: T.Type, in directory: String) throws -> T {
        try decodeJSON(T.self, at: (directory as NSString).appendingPathComponent("config.json"))
    }

    /// The `model_type` field of the config.json at `path` (nil when absent): what the registry and the
    /// families dispatch on.
    static func modelType(at path: String) throws -> String? {
        struct ModelType: Decodable { var model_type: String? }
        return try decodeJSON(ModelType.self, at: path).model_type
    }

    /// Decodes the JSON file at `path` as `T` (checked by `JSONInput` first); errors name the file and the field.
    static func decodeJSON<T: Decodable>(_: T.Type, at path: String) throws -> T {
        let data = try JSONInput.read(path)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx),
                let DecodingError.dataCorrupted(ctx) where !ctx.codingPath.isEmpty {
            throw CheckpointError(path, "field \(quoted(ctx.codingPath.map(\.stringValue).joined(separator: "."))) has the wrong type or is out of range")
        } catch let DecodingError.keyNotFound(key, _) {
            throw CheckpointError(path, "field \(quoted(key.stringValue)) is missing")
        } catch {
            throw CheckpointError(path, "not a valid JSON config")
        }
    }

    /// Loads a GPT from a model folder, its matrices stored in `precision`.
    public static func loadGPT(directory: String, precision: WeightPrecision = .float32) throws -> GPT {
        let config = try ModelFiles.config(GPTConfig.self, in: directory)
        try config.validate(file: (directory as NSString).appendingPathComponent("config.json"))
        return try loadGPT(config: config, weights: try weights(in: directory), precision: precision)
    }

    /// Loads a GPT of a given config from a weight file (e.g. a preset with a released checkpoint).
    public static func loadGPT(config: GPTConfig, weights path: String, precision: WeightPrecision = .float32) throws -> GPT {
        try config.validate(file: path)
        let checkpoint = try Checkpoint.open(path)
        return GPT(config: config, weights: try GPTWeights(config: config, checkpoint: checkpoint, precision: precision))
    }

    /// Loads a VQ decoder from a model folder.
    public static func loadVQ(directory: String) throws -> VQDecoder {
        let config = try ModelFiles.config(VQConfig.self, in: directory)
        try config.validate(file: (directory as NSString).appendingPathComponent("config.json"))
        return try loadVQ(config: config, weights: try weights(in: directory))
    }

    /// Loads a VQ decoder of a given config from a weight file.
    public static func loadVQ(config: VQConfig, weights path: String) throws -> VQDecoder {
        try config.validate(file: path)
        return try VQDecoder(config: config, checkpoint: try Checkpoint.open(path))
    }
}
