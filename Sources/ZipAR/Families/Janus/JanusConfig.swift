import Foundation

/// Hugging Face `LlamaConfig` fields (Python names) that the language model of Janus uses; absent fields
/// take LlamaConfig's defaults. `rope_theta` is read from `rope_parameters` (transformers 5) or the older
/// top-level field.
public struct LlamaTextConfig: Decodable, Equatable, Sendable {
    public var vocab_size = 32000
    public var hidden_size = 4096
    public var intermediate_size = 11008
    public var num_hidden_layers = 32
    public var num_attention_heads = 32
    public var num_key_value_heads: Int?
    public var head_dim: Int?
    public var hidden_act = "silu"
    public var max_position_embeddings = 2048
    public var rms_norm_eps = 1e-6
    public var rope_theta = 10000.0
    /// rope_parameters.rope_type, or rope_scaling.type / rope_type ("default" when absent).
    public var rope_type = "default"
    public var attention_bias = false
    public var mlp_bias = false

    struct RopeParameters: Decodable {
        var rope_theta: Double?
        var rope_type: String?
        var type: String?
    }

    enum CodingKeys: String, CodingKey {
        case vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
             head_dim, hidden_act, max_position_embeddings, rms_norm_eps, rope_theta, rope_parameters, rope_scaling,
             attention_bias, mlp_bias
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T { try c.decodeIfPresent(T.self, forKey: key) ?? fallback }
        vocab_size = try value(.vocab_size, vocab_size)
        hidden_size = try value(.hidden_size, hidden_size)
        intermediate_size = try value(.intermediate_size, intermediate_size)
        num_hidden_layers = try value(.num_hidden_layers, num_hidden_layers)
        num_attention_heads = try value(.num_attention_heads, num_attention_heads)
        num_key_value_heads = try c.decodeIfPresent(Int.self, forKey: .num_key_value_heads)
        head_dim = try c.decodeIfPresent(Int.self, forKey: .head_dim)
        hidden_act = try value(.hidden_act, hidden_act)
        max_position_embeddings = try value(.max_position_embeddings, max_position_embeddings)
        rms_norm_eps = try value(.rms_norm_eps, rms_norm_eps)
        attention_bias = try value(.attention_bias, attention_bias)
        mlp_bias = try value(.mlp_bias, mlp_bias)
        rope_theta = try value(.rope_theta, rope_theta)
        for key in [CodingKeys.rope_parameters, .rope_scaling] {
            if let p = try c.decodeIfPresent(RopeParameters.self, forKey: key) {
                if let t = p.rope_theta { rope_theta = t }
                if let t = p.rope_type ?? p.type { rope_type = t }
            }
        }
    }

    /// The decoder stack's sizes.
    var shape: TransformerShape {
        TransformerShape(dim: hidden_size, layers: num_hidden_layers, heads: num_attention_heads,
                         kvHeads: num_key_value_heads ?? num_attention_heads,
                         headDim: head_dim ?? hidden_size / max(num_attention_heads, 1),
                         ffnHidden: intermediate_size, normEps: Float(rms_norm_eps))
    }

    /// Checks that the numbers describe a Llama this engine runs; errors name `file` and the field.
    func validate(file: String, prefix: String) throws {
        func bad(_ m: String) -> CheckpointError { CheckpointError(file, "\(prefix).\(m)") }
        let limit = GPTConfig.maxWidth
        guard (1...limit).contains(hidden_size), (1...limit).contains(num_hidden_layers), (1...limit).contains(num_attention_heads),
              (head_dim ?? 1) <= limit, (1...limit * 16).contains(intermediate_size), vocab_size <= GPTConfig.maxRows,
              (1...1 << 20).contains(max_position_embeddings) else {
            throw bad("hidden_size, num_hidden_layers, num_attention_heads and head_dim (at most \(limit)), intermediate_size (\(limit * 16)), vocab_size (\(GPTConfig.maxRows)) or max_position_embeddings (\(1 << 20)) out of range")
        }
        let s = shape
        guard s.dim > 0, s.layers > 0, s.heads > 0, s.kvHeads > 0, s.heads % s.kvHeads == 0 else {
            throw bad("num_attention_heads \(s.heads) must be a positive multiple of num_key_value_heads \(s.kvHeads)")
        }
        guard s.headDim > 0, s.headDim % 2 == 0 else { throw bad("head_dim \(s.headDim) must be even and positive") }
        guard vocab_size > 0, intermediate_size > 0, max_position_embeddings > 0 else {
            throw bad("vocab_size, intermediate_size and max_position_embeddings must be positive")
        }
        guard hidden_act == "silu" else { throw bad("hidden_act \(quoted(hidden_act)) is not supported (silu only)") }
        guard rope_type == "default" else { throw bad("rope type \(quoted(rope_type)) is not supported (default only)") }
        guard !attention_bias, !mlp_bias else { throw bad("attention_bias / mlp_bias are not supported") }
        guard rope_theta > 0, rope_theta.isFinite, rms_norm_eps >= 0, rms_norm_eps.isFinite else {
            throw bad("rope_theta must be positive and rms_norm_eps non-negative, both finite")
        }
        try MemoryBudget.check(s, rows: 2 * vocab_size, positions: max_position_embeddings, file: file)
    }
}

/// Which naming a Janus checkpoint uses.
public enum JanusKeyLayout: String, Sendable {
    /// transformers' `JanusForConditionalGeneration` (`model.language_model.*`, `model.vqmodel.*`,
    /// `model.generation_*`): config.json with model_type "janus".
    case transformers
    /// deepseek-ai's released `MultiModalityCausalLM` (`language_model.model.*`, `gen_vision_model.*`,
    /// `gen_embed`, `gen_aligner`, `gen_head`): config.json with model_type "multi_modality".
    case deepseek
}

/// What a Janus model folder's config.json says, in either layout, reduced to what image generation uses.
public struct JanusConfig: Equatable, Sendable {
    public var layout: JanusKeyLayout
    public var text: LlamaTextConfig
    /// Image tokens per side (24 for Janus-Pro at 384 px).
    public var gridSide: Int
    /// Linear layers of the generation aligner (gen_embed → LM width): 2 in Janus-Pro.
    public var alignerDepth: Int
    /// The aligner and head activation ("gelu": exact erf).
    public var activation: String

    /// Janus-Pro's one trained image size over VQ-16's 16 pixels per token.
    public static let deepseekGridSide = 384 / 16

    private struct TransformersFile: Decodable {
        struct Vision: Decodable { var image_size: Int?; var patch_size: Int?; var num_image_tokens: Int? }
        struct VQ: Decodable { var num_hidden_layers: Int?; var hidden_act: String? }
        var text_config: LlamaTextConfig
        var vision_config: Vision?
        var vq_config: VQ?
    }

    private struct DeepseekFile: Decodable {
        struct Part<P: Decodable>: Decodable { var cls: String?; var params: P? }
        struct Aligner: Decodable { var depth: Int?; var projector_type: String? }
        var language_config: LlamaTextConfig
        var gen_aligner_config: Part<Aligner>?
    }

    /// Reads `directory/config.json` (the deepseek layout's config names no image size: 384 px, 24 tokens
    /// per side). Errors name the file and the field.
    public static func read(directory: String) throws -> JanusConfig {
        let path = (directory as NSString).appendingPathComponent("config.json")
        let type = try ModelFiles.modelType(at: path)
        var config: JanusConfig
        switch type {
        case "janus":
            let f = try ModelFiles.decodeJSON(TransformersFile.self, at: path)
            let v = f.vision_config
            let side = (v?.image_size ?? 384) / max(v?.patch_size ?? 16, 1)
            guard (1...VQDecoder.maxGridSide).contains(side) else {
                throw CheckpointError(path, "vision_config: image_size / patch_size gives \(side) tokens per side (1 to \(VQDecoder.maxGridSide) are supported)")
            }
            if let n = v?.num_image_tokens, n != side * side {
                throw CheckpointError(path, "vision_config.num_image_tokens \(n) is not (image_size / patch_size)² = \(side * side)")
            }
            config = JanusConfig(layout: .transformers, text: f.text_config, gridSide: side,
                                 alignerDepth: f.vq_config?.num_hidden_layers ?? 2, activation: f.vq_config?.hidden_act ?? "gelu")
        case "multi_modality":
            let f = try ModelFiles.decodeJSON(DeepseekFile.self, at: path)
            let aligner = f.gen_aligner_config?.params
            if let t = aligner?.projector_type, t != "mlp_gelu" {
                throw CheckpointError(path, "gen_aligner_config.params.projector_type \(quoted(t)) is not supported (mlp_gelu only)")
            }
            config = JanusConfig(layout: .deepseek, text: f.language_config, gridSide: deepseekGridSide,
                                 alignerDepth: aligner?.depth ?? 2, activation: "gelu")
        default:
            throw CheckpointError(path, "model_type \(quoted(type ?? "none")) is not a Janus model (expected janus or multi_modality)")
        }
        try config.text.validate(file: path, prefix: config.layout == .transformers ? "text_config" : "language_config")
        guard (1...16).contains(config.alignerDepth) else { throw CheckpointError(path, "the generation aligner depth must lie in 1…16") }
        guard config.activation == "gelu" else { throw CheckpointError(path, "vq_config.hidden_act \(quoted(config.activation)) is not supported (gelu only)") }
        guard (1...VQDecoder.maxGridSide).contains(config.gridSide) else {
            throw CheckpointError(path, "a \(config.gridSide)×\(config.gridSide) token grid is not supported (1 to \(VQDecoder.maxGridSide) per side)")
        }
        return config
    }
}
