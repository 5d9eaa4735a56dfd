import Foundation

/// What a Lumina-mGPT model folder's config.json says (`ChameleonXLLMXConfig` / transformers'
/// `ChameleonConfig`, model_type "chameleon"; Python field names): the Llama sizes (read as
/// `LlamaTextConfig`) and Chameleon's own fields. `mask_image_logits` and `vocabulary_map` are not read:
/// image generation reads only the image-token rows of the head, and the image ids come from the tokenizer.
public struct LuminaConfig: Equatable, Sendable {
    public var text: LlamaTextConfig
    /// Shards of the q/k LayerNorm parameters ([model_parallel_size, head_dim] in Lumina's checkpoints).
    public var model_parallel_size: Int
    /// Chameleon-34B's norm placement; not supported.
    public var swin_norm: Bool

    private struct ChameleonFields: Decodable {
        var model_parallel_size: Int?
        var swin_norm: Bool?
    }

    /// Reads `directory/config.json`; errors name the file and the field.
    public static func read(directory: String) throws -> LuminaConfig {
        let path = (directory as NSString).appendingPathComponent("config.json")
        let type = try ModelFiles.modelType(at: path)
        guard type == "chameleon" else {
            throw CheckpointError(path, "model_type \(quoted(type ?? "none")) is not a Lumina-mGPT / Chameleon model (expected chameleon)")
        }
        let text = try ModelFiles.decodeJSON(LlamaTextConfig.self, at: path)
        let extra = try ModelFiles.decodeJSON(ChameleonFields.self, at: path)
        let config = LuminaConfig(text: text, model_parallel_size: extra.model_parallel_size ?? 1, swin_norm: extra.swin_norm ?? false)
        try config.text.validate(file: path, prefix: "config")
        guard !config.swin_norm else { throw CheckpointError(path, "field 'swin_norm' true (Chameleon-34B's norm placement) is not supported") }
        let s = config.text.shape
        guard config.model_parallel_size > 0, s.heads % config.model_parallel_size == 0, s.kvHeads % config.model_parallel_size == 0 else {
            throw CheckpointError(path, "field 'model_parallel_size' \(config.model_parallel_size) must divide num_attention_heads and num_key_value_heads")
        }
        return config
    }
}
