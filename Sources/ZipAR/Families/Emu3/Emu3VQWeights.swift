import Foundation

/// SpatialNorm (MoVQ): GroupNorm(32, eps 1e-6)(x) · conv_y(zq↑) + conv_b(zq↑), zq↑ the quantized latent
/// resized (nearest) to x; conv_y and conv_b are 1×1 from the latent's channels.
struct Emu3SpatialNormWeights {
    let norm: NormWeights
    let convY: ConvWeights, convB: ConvWeights

    init(_ read: WeightReader, _ prefix: String, quant: Int, channels: Int) throws {
        norm = try NormWeights(read, prefix + ".norm_layer", channels: channels)
        convY = try ConvWeights(read, prefix + ".conv_y", cin: quant, cout: channels, kernel: 1)
        convB = try ConvWeights(read, prefix + ".conv_b", cin: quant, cout: channels, kernel: 1)
    }
}

/// A residual block with SpatialNorms: x + conv2(swish(norm2(conv1(swish(norm1(x)))))), the residual
/// through a 1×1 `nin_shortcut` when the width changes.
struct Emu3ResBlockWeights {
    let cin: Int, cout: Int
    let norm1: Emu3SpatialNormWeights, conv1: ConvWeights
    let norm2: Emu3SpatialNormWeights, conv2: ConvWeights
    let shortcut: ConvWeights?

    init(_ read: WeightReader, _ prefix: String, quant: Int, cin: Int, cout: Int) throws {
        self.cin = cin
        self.cout = cout
        norm1 = try Emu3SpatialNormWeights(read, prefix + ".norm1", quant: quant, channels: cin)
        conv1 = try ConvWeights(read, prefix + ".conv1", cin: cin, cout: cout, kernel: 3)
        norm2 = try Emu3SpatialNormWeights(read, prefix + ".norm2", quant: quant, channels: cout)
        conv2 = try ConvWeights(read, prefix + ".conv2", cin: cout, cout: cout, kernel: 3)
        shortcut = cin == cout ? nil : try ConvWeights(read, prefix + ".nin_shortcut", cin: cin, cout: cout, kernel: 1)
    }
}

/// Multi-head self-attention over the pixels (SigLIP-style q/k/v/out Linear layers with biases, read as
/// 1×1 convolutions) after a SpatialNorm, added to its input.
struct Emu3AttentionWeights {
    let norm: Emu3SpatialNormWeights
    /// [q; k; v] stacked, [3C, C].
    let qkv: ConvWeights
    let out: ConvWeights
    let channels: Int, heads: Int

    init(_ read: @escaping WeightReader, attention prefix: String, norm normPrefix: String, quant: Int, channels: Int, heads: Int) throws {
        self.channels = channels
        self.heads = heads
        norm = try Emu3SpatialNormWeights(read, normPrefix, quant: quant, channels: channels)
        let linear = Emu3VQWeights.linearAsConv(read)
        qkv = ConvWeights(stacking: try ["q_proj", "k_proj", "v_proj"].map {
            try ConvWeights(linear, prefix + "." + $0, cin: channels, cout: channels, kernel: 1)
        })
        out = try ConvWeights(linear, prefix + ".out_proj", cin: channels, cout: channels, kernel: 1)
    }
}

/// BatchNorm3d in eval mode as a per-channel affine map: y = x · scale + shift with
/// scale = γ / √(running_var + 1e-5), shift = β − running_mean · scale.
struct Emu3BatchNormWeights {
    let scale: [Float], shift: [Float]

    init(_ read: WeightReader, _ prefix: String, channels: Int) throws {
        let gamma = try read(prefix + ".weight", [channels]), beta = try read(prefix + ".bias", [channels])
        let mean = try read(prefix + ".running_mean", [channels]), variance = try read(prefix + ".running_var", [channels])
        let s = (0..<channels).map { gamma[$0] / (variance[$0] + 1e-5).squareRoot() }
        scale = s
        shift = (0..<channels).map { beta[$0] - mean[$0] * s[$0] }
    }
}

/// A temporal residual block, frame 0 only: BatchNorm, swish, causal 3×3×3 convolution (frame 0 sees
/// only the last temporal tap: the two before it fall on the causal zero padding), twice, plus the input.
struct Emu3TemporalBlockWeights {
    let norm1: Emu3BatchNormWeights, conv1: ConvWeights
    let norm2: Emu3BatchNormWeights, conv2: ConvWeights

    init(_ read: @escaping WeightReader, _ prefix: String, channels: Int) throws {
        let frame0 = Emu3VQWeights.lastTemporalTap(read, depth: 3)
        norm1 = try Emu3BatchNormWeights(read, prefix + ".norm1", channels: channels)
        conv1 = try ConvWeights(frame0, prefix + ".conv1.conv", cin: channels, cout: channels, kernel: 3)
        norm2 = try Emu3BatchNormWeights(read, prefix + ".norm2", channels: channels)
        conv2 = try ConvWeights(frame0, prefix + ".conv2.conv", cin: channels, cout: channels, kernel: 3)
    }
}

/// One up level of the decoder (transformers' `up_block.up.{i}`, i = 0 the full resolution): residual
/// blocks, each followed by attention on attention levels, then nearest ×2 + 3×3 convolution (not level 0).
struct Emu3UpLevelWeights {
    let blocks: [Emu3ResBlockWeights]
    let attentions: [Emu3AttentionWeights]
    let upsample: ConvWeights?
}

/// Every weight of the Emu3 vision tokenizer's decoder (`Emu3VQVAE`, transformers' names under
/// `prefix`): the codebook, post_quant_conv, the temporal stack, conv_in, the middle block, the up levels,
/// norm_out and conv_out. Temporal convolutions keep only the taps frame 0 reads.
struct Emu3VQWeights {
    let codebook: [Float]
    let postQuant: ConvWeights
    let temporalBlocks: [Emu3TemporalBlockWeights]
    let temporalUpsamples: [ConvWeights]
    let convIn: ConvWeights
    let middle: (Emu3ResBlockWeights, Emu3AttentionWeights, Emu3ResBlockWeights)
    /// Decoder order: the lowest resolution first.
    let levels: [Emu3UpLevelWeights]
    let normOut: Emu3SpatialNormWeights
    let convOut: ConvWeights

    init(config c: Emu3VQConfig, checkpoint: Checkpoint, prefix: String) throws {
        try self.init(config: c) { name, shape in try checkpoint.floats(prefix + name, shape: shape) }
    }

    /// The weights `read` gives by transformers' names (without the `vqmodel.` prefix) and stored shapes.
    init(config c: Emu3VQConfig, read: @escaping WeightReader) throws {
        let e = c.embed_dim, latent = c.latent_channels, levelsCount = c.channel_multiplier.count
        codebook = try read("quantize.embedding.weight", [c.codebook_size, e])
        postQuant = try ConvWeights(Emu3VQWeights.lastTemporalTap(read, depth: 3, spatial: 1), "post_quant_conv.conv", cin: e, cout: latent, kernel: 1)
        temporalBlocks = try (0..<c.num_res_blocks).map { try Emu3TemporalBlockWeights(read, "decoder.time_res_stack.\($0)", channels: latent) }
        let upsamples = Int(log2(Double(c.temporal_downsample_factor)).rounded())
        temporalUpsamples = try (0..<upsamples).map {
            try ConvWeights(Emu3VQWeights.lastTemporalTap(read, depth: 3), "decoder.time_conv.\($0).conv.conv", cin: latent, cout: latent, kernel: 3)
        }
        var width = c.base_channels * c.channel_multiplier.last!
        convIn = try ConvWeights(read, "decoder.conv_in", cin: latent, cout: width, kernel: 3)
        middle = (try Emu3ResBlockWeights(read, "decoder.middle_block.block_1", quant: e, cin: width, cout: width),
                  try Emu3AttentionWeights(read, attention: "decoder.middle_block.attn_1", norm: "decoder.middle_block.attn_norm",
                                           quant: e, channels: width, heads: c.num_attention_heads),
                  try Emu3ResBlockWeights(read, "decoder.middle_block.block_2", quant: e, cin: width, cout: width))
        var levels: [Emu3UpLevelWeights] = []
        for i in (0..<levelsCount).reversed() {
            let p = "decoder.up_block.up.\(i)", out = c.base_channels * c.channel_multiplier[i]
            var blocks: [Emu3ResBlockWeights] = [], attentions: [Emu3AttentionWeights] = []
            for j in 0...c.num_res_blocks {
                blocks.append(try Emu3ResBlockWeights(read, "\(p).block.\(j)", quant: e, cin: width, cout: out))
                width = out
                if c.attn_resolutions.contains(i) {
                    attentions.append(try Emu3AttentionWeights(read, attention: "\(p).attn.\(j)", norm: "\(p).attn_norms.\(j)",
                                                               quant: e, channels: width, heads: c.num_attention_heads))
                }
            }
            let upsample = i == 0 ? nil : try ConvWeights(read, "\(p).upsample.conv", cin: width, cout: width, kernel: 3)
            levels.append(Emu3UpLevelWeights(blocks: blocks, attentions: attentions, upsample: upsample))
        }
        self.levels = levels
        normOut = try Emu3SpatialNormWeights(read, "decoder.norm_out", quant: e, channels: width)
        convOut = try ConvWeights(read, "decoder.conv_out", cin: width, cout: c.out_channels, kernel: 3)
    }

    /// A reader that answers a request for a [cout, cin, k, k] weight with the last temporal tap of the
    /// stored [cout, cin, depth, spatial, spatial] Conv3d weight (k = spatial); other shapes pass through.
    static func lastTemporalTap(_ read: @escaping WeightReader, depth: Int, spatial: Int = 3) -> WeightReader {
        { name, shape in
            guard shape.count == 4, name.hasSuffix(".weight") else { return try read(name, shape) }
            let (cout, cin, k) = (shape[0], shape[1], spatial)
            let full = try read(name, [cout, cin, depth, k, k])
            let tap = k * k
            var out = [Float](repeating: 0, count: cout * cin * tap)
            for o in 0..<cout * cin {
                for s in 0..<tap { out[o * tap + s] = full[(o * depth + depth - 1) * tap + s] }
            }
            return out
        }
    }

    /// A reader that answers a request for a [cout, cin, 1, 1] weight with the stored Linear [cout, cin].
    static func linearAsConv(_ read: @escaping WeightReader) -> WeightReader {
        { name, shape in
            guard shape.count == 4, name.hasSuffix(".weight") else { return try read(name, shape) }
            return try read(name, [shape[0], shape[1]])
        }
    }
}
