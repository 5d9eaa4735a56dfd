import Foundation

/// Reads one weight as row-major floats after checking its shape; throws an error naming the key.
typealias WeightReader = (_ name: String, _ shape: [Int]) throws -> [Float]

/// A convolution's weights: `weight` is [cout, cin · kernel · kernel] row-major (PyTorch's
/// [cout, cin, kh, kw] flattened), `bias` is [cout]. 3×3 layers loaded `withWinograd` also keep their
/// Winograd-transformed filters (4× the size of `weight`) in `winograd`.
struct ConvWeights {
    let cout: Int
    let cin: Int
    let kernel: Int
    let weight: [Float]
    let bias: [Float]
    let winograd: [Float]?

    init(_ read: WeightReader, _ prefix: String, cin: Int, cout: Int, kernel: Int, withWinograd: Bool = false) throws {
        self.cin = cin
        self.cout = cout
        self.kernel = kernel
        weight = try read(prefix + ".weight", [cout, cin, kernel, kernel])
        bias = try read(prefix + ".bias", [cout])
        winograd = withWinograd && kernel == 3 ? Winograd.filters(weight, cout: cout, cin: cin) : nil
    }

    /// Bytes held: weight, bias and Winograd filters.
    var byteCount: Int { 4 * (weight.count + bias.count + (winograd?.count ?? 0)) }

    /// Several 1×1 convolutions over the same input stacked into one (outputs concatenated).
    init(stacking parts: [ConvWeights]) {
        cin = parts[0].cin
        kernel = parts[0].kernel
        cout = parts.reduce(0) { $0 + $1.cout }
        weight = parts.flatMap(\.weight)
        bias = parts.flatMap(\.bias)
        winograd = nil
    }
}

/// GroupNorm's affine parameters, one per channel.
struct NormWeights {
    let gamma: [Float]
    let beta: [Float]

    /// Bytes held.
    var byteCount: Int { 4 * (gamma.count + beta.count) }

    init(_ read: WeightReader, _ prefix: String, channels: Int) throws {
        gamma = try read(prefix + ".weight", [channels])
        beta = try read(prefix + ".bias", [channels])
    }
}

/// LlamaGen's ResnetBlock: x + conv2(swish(norm2(conv1(swish(norm1(x)))))), with a 1×1 `nin_shortcut` on
/// x when the width changes; `withWinograd`: conv1 and conv2 keep Winograd filters.
struct ResnetWeights {
    let cin: Int
    let cout: Int
    let norm1: NormWeights
    let conv1: ConvWeights
    let norm2: NormWeights
    let conv2: ConvWeights
    let shortcut: ConvWeights?

    /// Bytes held.
    var byteCount: Int { norm1.byteCount + conv1.byteCount + norm2.byteCount + conv2.byteCount + (shortcut?.byteCount ?? 0) }

    init(_ read: WeightReader, _ prefix: String, cin: Int, cout: Int, withWinograd: Bool = false) throws {
        self.cin = cin
        self.cout = cout
        norm1 = try NormWeights(read, prefix + ".norm1", channels: cin)
        conv1 = try ConvWeights(read, prefix + ".conv1", cin: cin, cout: cout, kernel: 3, withWinograd: withWinograd)
        norm2 = try NormWeights(read, prefix + ".norm2", channels: cout)
        conv2 = try ConvWeights(read, prefix + ".conv2", cin: cout, cout: cout, kernel: 3, withWinograd: withWinograd)
        shortcut = cin == cout ? nil : try ConvWeights(read, prefix + ".nin_shortcut", cin: cin, cout: cout, kernel: 1)
    }
}

/// LlamaGen's AttnBlock (single-head self-attention over all positions), with q, k and v stacked into
/// one 1×1 convolution of 3·channels outputs.
struct AttentionWeights {
    let channels: Int
    let norm: NormWeights
    let qkv: ConvWeights
    let projOut: ConvWeights

    /// Bytes held.
    var byteCount: Int { norm.byteCount + qkv.byteCount + projOut.byteCount }

    init(_ read: WeightReader, _ prefix: String, channels: Int) throws {
        self.channels = channels
        norm = try NormWeights(read, prefix + ".norm", channels: channels)
        let parts = try ["q", "k", "v"].map { try ConvWeights(read, prefix + "." + $0, cin: channels, cout: channels, kernel: 1) }
        qkv = ConvWeights(stacking: parts)
        projOut = try ConvWeights(read, prefix + ".proj_out", cin: channels, cout: channels, kernel: 1)
    }
}

/// One level of the decoder: res blocks (each followed by attention at the lowest resolution) and, for all
/// but the last level, a nearest ×2 upsample followed by a 3×3 convolution.
struct LevelWeights {
    let res: [ResnetWeights]
    let attention: [AttentionWeights]
    let upsample: ConvWeights?
}

/// Every weight the VQ decoder uses, checked by name and shape against a layout.
///
/// The 3×3 convolutions that run at twice the token grid or more (every level after the first, the
/// upsample convolutions and conv_out) keep Winograd filters too. Those at the token grid itself (conv_in,
/// the middle blocks and the first level's res blocks: 16 × 16 for a 256-pixel image) do not: their few
/// tiles do not pay for filters 4× the size of the widest layers' weights (36 MiB each at 512 × 512).
struct VQDecoderWeights {
    let layout: VQDecoderLayout
    /// [codebookSize, embedDim], rows already L2-normalised when the layout says so.
    let codebook: [Float]
    let postQuantConv: ConvWeights
    let convIn: ConvWeights
    let midRes1: ResnetWeights
    let midAttention: AttentionWeights
    let midRes2: ResnetWeights
    let levels: [LevelWeights]
    let normOut: NormWeights
    let convOut: ConvWeights

    /// Loads the weights of `layout` through `read`, which checks each one's shape.
    init(layout: VQDecoderLayout, read: WeightReader) throws {
        self.layout = layout
        let raw = try read("quantize.embedding.weight", [layout.codebookSize, layout.embedDim])
        codebook = layout.l2Normalize ? VQDecoderWeights.normalizedRows(raw, width: layout.embedDim) : raw
        postQuantConv = try ConvWeights(read, "post_quant_conv", cin: layout.embedDim, cout: layout.zChannels, kernel: 1)
        let top = layout.levelWidths[0]
        convIn = try ConvWeights(read, "decoder.conv_in", cin: layout.zChannels, cout: top, kernel: 3)
        midRes1 = try ResnetWeights(read, "decoder.mid.0", cin: top, cout: top)
        midAttention = try AttentionWeights(read, "decoder.mid.1", channels: top)
        midRes2 = try ResnetWeights(read, "decoder.mid.2", cin: top, cout: top)
        var levels: [LevelWeights] = []
        var width = top
        for (j, out) in layout.levelWidths.enumerated() {
            let prefix = "decoder.conv_blocks.\(j)"
            var res: [ResnetWeights] = []
            var attention: [AttentionWeights] = []
            for i in 0..<layout.resBlocks {
                res.append(try ResnetWeights(read, "\(prefix).res.\(i)", cin: width, cout: out, withWinograd: j > 0))
                width = out
                if layout.attentionLevels.contains(j) { attention.append(try AttentionWeights(read, "\(prefix).attn.\(i)", channels: out)) }
            }
            let upsample = j == layout.levelWidths.count - 1 ? nil
                : try ConvWeights(read, "\(prefix).upsample.conv", cin: out, cout: out, kernel: 3, withWinograd: true)
            levels.append(LevelWeights(res: res, attention: attention, upsample: upsample))
        }
        self.levels = levels
        normOut = try NormWeights(read, "decoder.norm_out", channels: width)
        convOut = try ConvWeights(read, "decoder.conv_out", cin: width, cout: 3, kernel: 3, withWinograd: true)
    }

    /// Bytes of every weight held.
    var byteCount: Int {
        let parts = [postQuantConv.byteCount, convIn.byteCount, midRes1.byteCount, midAttention.byteCount, midRes2.byteCount,
                     normOut.byteCount, convOut.byteCount, 4 * codebook.count]
        return parts.reduce(0, +) + levels.reduce(0) { sum, level in
            sum + level.res.reduce(0) { $0 + $1.byteCount } + level.attention.reduce(0) { $0 + $1.byteCount } + (level.upsample?.byteCount ?? 0)
        }
    }

    /// Each row divided by max(‖row‖₂, 1e-12), as torch.nn.functional.normalize.
    static func normalizedRows(_ m: [Float], width: Int) -> [Float] {
        var out = m
        for r in stride(from: 0, to: m.count, by: width) {
            var sum: Float = 0
            for i in r..<r + width { sum += m[i] * m[i] }
            let norm = max(sum.squareRoot(), 1e-12)
            for i in r..<r + width { out[i] = m[i] / norm }
        }
        return out
    }
}
