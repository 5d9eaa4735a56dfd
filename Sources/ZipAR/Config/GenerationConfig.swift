import Foundation

/// Sampling settings a model folder recommends (`generation_config.json` beside config.json, as Hugging
/// Face folders carry one): what `zipar` uses for this model when no flag overrides them. Every field is
/// optional; a missing one falls back to the family's default. Hugging Face's name for the CFG scale,
/// `guidance_scale`, is read too, and the special-token ids text-to-image families use.
public struct GenerationConfig: Codable, Equatable, Sendable {
    public var cfg_scale: Float?
    public var guidance_scale: Float?
    public var bos_token_id: Int?
    public var pad_token_id: Int?
    /// transformers' Janus keeps `boi_token_id` (the `<begin_of_image>` id) here.
    public var generation_kwargs: Kwargs?

    public struct Kwargs: Codable, Equatable, Sendable {
        public var boi_token_id: Int?
    }
    public var temperature: Float?
    public var top_k: Int?
    public var top_p: Float?

    public init(cfg_scale: Float? = nil, temperature: Float? = nil, top_k: Int? = nil, top_p: Float? = nil) {
        self.cfg_scale = cfg_scale
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p
    }

    /// The CFG scale, under either name.
    public var scale: Float? { cfg_scale ?? guidance_scale }

    /// Checks the ranges; errors name `file` and the field.
    public func validate(file: String) throws {
        if let t = temperature, !(t >= 0) { throw CheckpointError(file, "field 'temperature' must be 0 or positive") }
        if let k = top_k, k < 0 { throw CheckpointError(file, "field 'top_k' must be 0 or positive") }
        if let p = top_p, !(p > 0 && p <= 1) { throw CheckpointError(file, "field 'top_p' must lie in (0, 1]") }
        if let s = cfg_scale, !s.isFinite { throw CheckpointError(file, "field 'cfg_scale' must be a number") }
        if let s = guidance_scale, !s.isFinite { throw CheckpointError(file, "field 'guidance_scale' must be a number") }
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
