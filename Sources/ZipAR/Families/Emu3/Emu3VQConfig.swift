import Foundation

/// config.json's `vq_config` (transformers' `Emu3VQVAEConfig`; Python field names and defaults, the
/// released vision tokenizer's): codebook, widths per level, residual blocks, attention levels, temporal
/// upsampling factor.
public struct Emu3VQConfig: Decodable, Equatable, Sendable {
    public var codebook_size = 32768
    public var embed_dim = 4
    public var latent_channels = 4
    public var out_channels = 3
    public var temporal_downsample_factor = 4
    public var base_channels = 256
    public var channel_multiplier = [1, 2, 2, 4]
    public var num_res_blocks = 2
    public var attn_resolutions = [3]
    public var hidden_size = 1024
    public var num_attention_heads = 1

    enum CodingKeys: String, CodingKey {
        case codebook_size, embed_dim, latent_channels, out_channels, temporal_downsample_factor, base_channels,
             channel_multiplier, num_res_blocks, attn_resolutions, hidden_size, num_attention_heads
    }

    /// The released vision tokenizer's values (the defaults above).
    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T { try c.decodeIfPresent(T.self, forKey: key) ?? fallback }
        codebook_size = try value(.codebook_size, codebook_size)
        embed_dim = try value(.embed_dim, embed_dim)
        latent_channels = try value(.latent_channels, latent_channels)
        out_channels = try value(.out_channels, out_channels)
        temporal_downsample_factor = try value(.temporal_downsample_factor, temporal_downsample_factor)
        base_channels = try value(.base_channels, base_channels)
        channel_multiplier = try value(.channel_multiplier, channel_multiplier)
        num_res_blocks = try value(.num_res_blocks, num_res_blocks)
        attn_resolutions = try value(.attn_resolutions, attn_resolutions)
        hidden_size = try value(.hidden_size, hidden_size)
        num_attention_heads = try value(.num_attention_heads, num_attention_heads)
    }

    /// Pixels per token along each side: 2^(levels − 1).
    public var downsample: Int { 1 << (channel_multiplier.count - 1) }

    /// Checks what the decoder needs; errors name `file` and the field.
    func validate(file: String) throws {
        func bad(_ m: String) -> CheckpointError { CheckpointError(file, "vq_config.\(m)") }
        guard (1...12).contains(channel_multiplier.count), channel_multiplier.allSatisfy({ (1...64).contains($0) }) else {
            throw bad("channel_multiplier must hold 1…12 values in 1…64")
        }
        guard (1...4096).contains(base_channels), base_channels * channel_multiplier.max()! <= 1 << 14 else { throw bad("base_channels out of range") }
        guard channel_multiplier.allSatisfy({ (base_channels * $0) % GroupNorm.groups == 0 }) else {
            throw bad("base_channels × channel_multiplier must be multiples of \(GroupNorm.groups) (GroupNorm's groups)")
        }
        guard (1...1 << 20).contains(codebook_size), (1...1024).contains(embed_dim), latent_channels == embed_dim else {
            throw bad("codebook_size, embed_dim out of range, or latent_channels \(latent_channels) ≠ embed_dim \(embed_dim) (the temporal stack runs on both)")
        }
        guard out_channels == 3 else { throw bad("out_channels must be 3 (RGB)") }
        guard (0...32).contains(num_res_blocks) else { throw bad("num_res_blocks out of range") }
        let t = temporal_downsample_factor
        guard t >= 1, t <= 64, t & (t - 1) == 0 else { throw bad("temporal_downsample_factor \(t) must be a power of 2 up to 64") }
        let top = base_channels * channel_multiplier.last!
        guard hidden_size == top, num_attention_heads >= 1, hidden_size % num_attention_heads == 0 else {
            throw bad("hidden_size \(hidden_size) must equal base_channels × channel_multiplier[-1] (\(top)) and divide by num_attention_heads")
        }
        for level in attn_resolutions where (0..<channel_multiplier.count).contains(level) && base_channels * channel_multiplier[level] != hidden_size {
            throw bad("attn_resolutions holds level \(level), whose width \(base_channels * channel_multiplier[level]) is not hidden_size \(hidden_size)")
        }
    }
}
