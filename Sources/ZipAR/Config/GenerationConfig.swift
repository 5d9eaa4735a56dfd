import Foundation

/// Sampling settings a model folder recommends (`generation_config.json` beside config.json, as Hugging
/// Face folders carry one): what `zipar` uses for this model when no flag overrides them. Every field is
/// optional; a missing one falls back to LlamaGen's default.
public struct GenerationConfig: Codable, Equatable, Sendable {
    public var cfg_scale: Float?
    public var temperature: Float?
    public var top_k: Int?
    public var top_p: Float?

    public init(cfg_scale: Float? = nil, temperature: Float? = nil, top_k: Int? = nil, top_p: Float? = nil) {
        self.cfg_scale = cfg_scale
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p
    }

    /// Checks the ranges; errors name `file` and the field.
    public func validate(file: String) throws {
        if let t = temperature, !(t >= 0) { throw CheckpointError(file, "field 'temperature' must be 0 or positive") }
        if let k = top_k, k < 0 { throw CheckpointError(file, "field 'top_k' must be 0 or positive") }
        if let p = top_p, !(p > 0 && p <= 1) { throw CheckpointError(file, "field 'top_p' must lie in (0, 1]") }
        if let s = cfg_scale, !s.isFinite { throw CheckpointError(file, "field 'cfg_scale' must be a number") }
    }
}

extension ModelFiles {
    /// `directory/generation_config.json`, or nil when the folder has none.
    public static func generationConfig(in directory: String) throws -> GenerationConfig? {
        let path = (directory as NSString).appendingPathComponent("generation_config.json")
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let config = try decodeJSON(GenerationConfig.self, at: path)
        try config.validate(file: path)
        return config
    }
}
