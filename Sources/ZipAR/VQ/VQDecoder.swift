/// LlamaGen's VQ image decoder (tokens → pixels), in float32 on the CPU.
///
/// Path: codebook lookup (rows L2-normalised when `codebook_l2_norm`) → [embed, h, w] → post_quant_conv
/// (1×1) → decoder.conv_in (3×3) → mid (res, attention, res) → one level per `decoder_ch_mult` entry,
/// lowest resolution first (3 res blocks each, attention after each at the first level, nearest ×2
/// upsample + 3×3 conv for all but the last) → norm_out → swish → conv_out.
public final class VQDecoder: Sendable {
    let weights: VQDecoderWeights
    private let workspaces = VQWorkspaceCache()

    /// Largest token grid side accepted (the attention at the lowest resolution is quadratic in h · w).
    public static let maxGridSide = 64

    /// Loads the decoder from `checkpoint`. The number of levels and `codebook_l2_norm` come from
    /// `config`; every width (codebook, z_channels, each level) is read from the weights' shapes, and every
    /// weight the decoder uses must be present with the shape those widths imply. Other keys (encoder.*,
    /// quant_conv.*, quantize.codebook_used) are ignored. Errors are `CheckpointError`s naming the key.
    /// Each tensor's mapped pages are dropped once it is read, so the file's bytes do not stay resident.
    public convenience init(config: VQConfig, checkpoint: Checkpoint) throws {
        let layout = try VQDecoderLayout(config: config, checkpoint: checkpoint)
        try self.init(weights: VQDecoderWeights(layout: layout, read: checkpoint.floatsReleasingPages))
    }

    /// Loads a decoder of `layout` (already checked against the weights) from `checkpoint` (LlamaGen names).
    convenience init(layout: VQDecoderLayout, checkpoint: Checkpoint) throws {
        try self.init(weights: VQDecoderWeights(layout: layout, read: checkpoint.floatsReleasingPages))
    }

    init(weights: VQDecoderWeights) {
        self.weights = weights
    }

    /// Bytes of every weight held (convolution weights and biases, Winograd filters, norms, codebook).
    public var byteCount: Int { weights.byteCount }

    /// Codes in the codebook: tokens must lie in 0..<codebookSize.
    public var codebookSize: Int { weights.layout.codebookSize }

    /// Pixels per token along each side (16 for VQ-16).
    public var downsample: Int { weights.layout.upscale }

    /// Decodes a `height` × `width` grid of tokens in raster order into a [3, height·s, width·s] float
    /// image (s = `downsample`). Throws `VQDecodeError` when the grid does not match the tokens or a
    /// token lies outside the codebook.
    public func decode(tokens: [Int], height: Int, width: Int) throws -> VQImage {
        try decode(tokens: tokens, height: height, width: width, winograd: true)
    }

    /// `decode`, with the 3×3 convolutions all on the direct im2col path when `winograd` is false (the
    /// reference the Winograd path is checked against).
    func decode(tokens: [Int], height: Int, width: Int, winograd: Bool) throws -> VQImage {
        let layout = weights.layout
        guard (1...VQDecoder.maxGridSide).contains(height), (1...VQDecoder.maxGridSide).contains(width) else {
            throw VQDecodeError("token grid \(height)×\(width) is not supported (each side 1 to \(VQDecoder.maxGridSide))")
        }
        guard tokens.count == height * width else {
            throw VQDecodeError("\(tokens.count) tokens for a \(height)×\(width) grid (needs \(height * width))")
        }
        if let bad = tokens.firstIndex(where: { !(0..<layout.codebookSize).contains($0) }) {
            throw VQDecodeError("token \(bad) is \(tokens[bad]), outside the codebook of size \(layout.codebookSize)")
        }
        let ws = workspaces.take(layout: layout, tokenHeight: height, tokenWidth: width, allowsWinograd: winograd)
        defer { workspaces.give(ws) }
        lookUp(tokens, into: ws.b.pointer)
        var (h, w) = (height, width)
        Conv2D.apply(weights.postQuantConv, input: ws.b.pointer, height: h, width: w, output: ws.c.pointer, workspace: ws)
        Conv2D.apply(weights.convIn, input: ws.c.pointer, height: h, width: w, output: ws.a.pointer, workspace: ws)
        ResnetBlock.forward(weights.midRes1, workspace: ws, height: h, width: w)
        AttentionBlock.forward(weights.midAttention, workspace: ws, height: h, width: w)
        ResnetBlock.forward(weights.midRes2, workspace: ws, height: h, width: w)
        for level in weights.levels {
            for (i, res) in level.res.enumerated() {
                ResnetBlock.forward(res, workspace: ws, height: h, width: w)
                if i < level.attention.count {
                    AttentionBlock.forward(level.attention[i], workspace: ws, height: h, width: w)
                }
            }
            if let upsample = level.upsample {
                (h, w) = (2 * h, 2 * w)
                Conv2D.applyUpsampled(upsample, input: ws.a.pointer, height: h, width: w, output: ws.b.pointer,
                                      spare: ws.c.pointer, workspace: ws)
                swap(&ws.a, &ws.b)
            }
        }
        Conv2D.applyNormalized(weights.convOut, norm: weights.normOut, input: ws.a.pointer, height: h, width: w,
                               output: ws.c.pointer, spare: ws.b.pointer, workspace: ws)
        let data = Array(UnsafeBufferPointer(start: ws.c.pointer, count: 3 * h * w))
        return VQImage(channels: 3, height: h, width: w, data: data)
    }

    /// z[c, p] = codebook[tokens[p], c]: the code vectors as a channel-first [embed, h·w] latent.
    private func lookUp(_ tokens: [Int], into z: UnsafeMutablePointer<Float>) {
        let dim = weights.layout.embedDim
        let n = tokens.count
        weights.codebook.withUnsafeBufferPointer { book in
            for (p, t) in tokens.enumerated() {
                for c in 0..<dim { z[c * n + p] = book[t * dim + c] }
            }
        }
    }
}
