import Foundation

/// The decoder of Emu3's vision tokenizer (transformers' `Emu3VQVAE.decode`, MoVQ with SpatialNorm and
/// temporal layers) for one image: frame 0 only. The reference decodes temporal_downsample_factor frames
/// and returns frame 0; every temporal convolution pads causally (two zero frames before, none after),
/// temporal upsampling repeats frames, BatchNorm (eval) and the spatial layers act per frame, so frame 0
/// of the output depends on frame 0 of the input alone and each 3×3×3 convolution reduces to its last
/// temporal tap: exact, at 1/factor of the reference's work. Both the latent (post_quant_conv of the
/// codes) and the quantized codes `zq` go through the temporal stack, as the reference batches them; `zq`
/// then conditions every SpatialNorm. Output: [3, H·f, W·f] floats in about [−1, 1].
public final class Emu3VQDecoder: ImageDecoder, @unchecked Sendable {
    public let config: Emu3VQConfig
    let weights: Emu3VQWeights

    init(config: Emu3VQConfig, weights: Emu3VQWeights) {
        self.config = config
        self.weights = weights
    }

    /// Reads the decoder from an Emu3 -hf checkpoint whose VQ keys start with `prefix` (`vqmodel.` or
    /// `model.vqmodel.`); `configPath` is named in errors about `config`.
    public static func load(config: Emu3VQConfig, checkpoint: Checkpoint, prefix: String, configPath: String) throws -> Emu3VQDecoder {
        try config.validate(file: configPath)
        return Emu3VQDecoder(config: config, weights: try Emu3VQWeights(config: config, checkpoint: checkpoint, prefix: prefix))
    }

    public var codebookSize: Int { config.codebook_size }
    public var downsample: Int { config.downsample }
    public var byteCount: Int { 4 * Emu3VQDecoder.floatCount(of: weights) }

    public func decode(tokens: [Int], height: Int, width: Int) throws -> VQImage {
        guard height > 0, width > 0, tokens.count == height * width else {
            throw VQDecodeError("expected \(height)×\(width) = \(height * width) tokens, got \(tokens.count)")
        }
        if let bad = tokens.first(where: { !(0..<codebookSize).contains($0) }) {
            throw VQDecodeError("token \(bad) is outside the codebook of \(codebookSize)")
        }
        let w = weights, e = config.embed_dim, plane = height * width
        var quant = [Float](repeating: 0, count: e * plane)
        for (i, t) in tokens.enumerated() {
            for c in 0..<e { quant[c * plane + i] = w.codebook[t * e + c] }
        }
        let ops = Emu3VQOps(maxColumns: Emu3VQDecoder.columnsNeeded(config, height: height, width: width))
        var z = ops.conv(w.postQuant, quant, height, width)
        var zq = quant
        for block in w.temporalBlocks {
            z = ops.temporalBlock(block, z, height, width)
            zq = ops.temporalBlock(block, zq, height, width)
        }
        for conv in w.temporalUpsamples {
            z = ops.swish(ops.conv(conv, z, height, width))
            zq = ops.swish(ops.conv(conv, zq, height, width))
        }
        let q = Emu3VQOps.Latent(values: zq, height: height, width: width)
        var (h, wd) = (height, width)
        var x = ops.conv(w.convIn, z, h, wd)
        x = ops.resBlock(w.middle.0, x, h, wd, q)
        x = ops.attention(w.middle.1, x, h, wd, q)
        x = ops.resBlock(w.middle.2, x, h, wd, q)
        for level in w.levels {
            for (j, block) in level.blocks.enumerated() {
                x = ops.resBlock(block, x, h, wd, q)
                if !level.attentions.isEmpty { x = ops.attention(level.attentions[j], x, h, wd, q) }
            }
            if let up = level.upsample {
                x = ops.upsampleConv(up, x, h, wd)
                h *= 2
                wd *= 2
            }
        }
        x = ops.swish(ops.spatialNorm(w.normOut, x, h, wd, q))
        return VQImage(channels: config.out_channels, height: h, width: wd, data: ops.conv(w.convOut, x, h, wd))
    }

    /// im2col floats the widest 3×3 convolution needs for one output row.
    static func columnsNeeded(_ c: Emu3VQConfig, height: Int, width: Int) -> Int {
        let widest = c.base_channels * c.channel_multiplier.max()!
        return max(widest, c.latent_channels) * 9 * width * c.downsample
    }

    private static func floatCount(of w: Emu3VQWeights) -> Int {
        func conv(_ c: ConvWeights) -> Int { c.weight.count + c.bias.count }
        func norm(_ n: Emu3SpatialNormWeights) -> Int { n.norm.gamma.count * 2 + conv(n.convY) + conv(n.convB) }
        func res(_ r: Emu3ResBlockWeights) -> Int { norm(r.norm1) + conv(r.conv1) + norm(r.norm2) + conv(r.conv2) + (r.shortcut.map(conv) ?? 0) }
        func att(_ a: Emu3AttentionWeights) -> Int { norm(a.norm) + conv(a.qkv) + conv(a.out) }
        var n = w.codebook.count + conv(w.postQuant) + conv(w.convIn) + conv(w.convOut) + norm(w.normOut)
        n += w.temporalBlocks.reduce(0) { $0 + conv($1.conv1) + conv($1.conv2) + 2 * ($1.norm1.scale.count + $1.norm2.scale.count) }
        n += w.temporalUpsamples.reduce(0) { $0 + conv($1) }
        n += res(w.middle.0) + att(w.middle.1) + res(w.middle.2)
        for level in w.levels {
            n += level.blocks.reduce(0) { $0 + res($1) } + level.attentions.reduce(0) { $0 + att($1) } + (level.upsample.map(conv) ?? 0)
        }
        return n
    }
}
