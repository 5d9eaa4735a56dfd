import Foundation

/// LlamaGen's VQ tokenizer `ModelArgs`, with the Python field names, plus `ch` (the base channel width,
/// which LlamaGen fixes at 128). Absent fields take LlamaGen's defaults, which are the VQ-16 tokenizer;
/// unknown fields are ignored.
///
/// The decoder reads its channel widths from the weights' shapes (see `VQDecoder`); of this config it uses
/// the number of levels (`decoder_ch_mult.count`) and `codebook_l2_norm`.
public struct VQConfig: Codable, Equatable, Sendable {
    public var codebook_size: Int = 16384
    public var codebook_embed_dim: Int = 8
    public var codebook_l2_norm: Bool = true
    public var codebook_show_usage: Bool = true
    public var commit_loss_beta: Double = 0.25
    public var entropy_loss_ratio: Double = 0.0
    public var encoder_ch_mult: [Int] = [1, 1, 2, 2, 4]
    public var decoder_ch_mult: [Int] = [1, 1, 2, 2, 4]
    public var z_channels: Int = 256
    public var dropout_p: Double = 0.0
    /// Base channel width (not a LlamaGen `ModelArgs` field: its Encoder/Decoder default, 128).
    public var ch: Int = 128
    /// Res blocks per level in the Encoder (not a `ModelArgs` field: LlamaGen's Encoder/Decoder default,
    /// 2); the Decoder uses one more per level.
    public var num_res_blocks: Int = 2

    /// The VQ-16 tokenizer (16× downsampling, 16384 codes of 8 dimensions): all defaults.
    public static let vq16 = VQConfig()

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        codebook_size = try value(.codebook_size, codebook_size)
        codebook_embed_dim = try value(.codebook_embed_dim, codebook_embed_dim)
        codebook_l2_norm = try value(.codebook_l2_norm, codebook_l2_norm)
        codebook_show_usage = try value(.codebook_show_usage, codebook_show_usage)
        commit_loss_beta = try value(.commit_loss_beta, commit_loss_beta)
        entropy_loss_ratio = try value(.entropy_loss_ratio, entropy_loss_ratio)
        encoder_ch_mult = try value(.encoder_ch_mult, encoder_ch_mult)
        decoder_ch_mult = try value(.decoder_ch_mult, decoder_ch_mult)
        z_channels = try value(.z_channels, z_channels)
        dropout_p = try value(.dropout_p, dropout_p)
        ch = try value(.ch, ch)
        num_res_blocks = try value(.num_res_blocks, num_res_blocks)
    }

    /// The VQ-16 decoder stored in `checkpoint` (LlamaGen names), with as many levels and res blocks as
    /// the weights hold: for folders whose config does not describe the decoder (Janus).
    public static func inferred(from checkpoint: Checkpoint) -> VQConfig {
        var c = VQConfig()
        func has(_ name: String) -> Bool { checkpoint.tensors[name] != nil }
        let levels = (0...12).first { !has("decoder.conv_blocks.\($0).res.0.conv1.weight") } ?? 0
        c.decoder_ch_mult = [Int](repeating: 1, count: levels)
        c.num_res_blocks = ((0...32).first { !has("decoder.conv_blocks.0.res.\($0).conv1.weight") } ?? 1) - 1
        return c
    }

    /// Pixels per token along each side: 2^(levels − 1).
    public var downsample: Int { 1 << max(decoder_ch_mult.count - 1, 0) }

    /// Checks the numbers make a decoder LlamaGen can build; the error names the offending field.
    public func validate(file: String) throws {
        func bad(_ message: String) -> CheckpointError { CheckpointError(file, message) }
        guard codebook_size > 0, codebook_embed_dim > 0 else { throw bad("codebook_size and codebook_embed_dim must be positive") }
        guard (1...12).contains(decoder_ch_mult.count) else { throw bad("decoder_ch_mult must have 1 to 12 levels, has \(decoder_ch_mult.count)") }
        guard decoder_ch_mult.allSatisfy({ $0 > 0 }), ch > 0, z_channels > 0 else { throw bad("ch, z_channels and decoder_ch_mult must be positive") }
        guard (0...32).contains(num_res_blocks) else { throw bad("num_res_blocks must lie in 0…32, is \(num_res_blocks)") }
    }
}
