import Foundation

/// The rows of an embedding table, read one at a time: in place from the checkpoint (Janus's 102400-row
/// text table is only ever looked up for a prompt's few tokens, so it is never copied), or computed from a
/// seed for benchmarks.
public enum EmbeddingRows: @unchecked Sendable {
    case mapped(TensorEntry)
    /// Rows uniform with standard deviation 0.02, a function of (seed, row) alone.
    case random(rows: Int, cols: Int, seed: UInt64)

    public var rows: Int {
        switch self {
        case .mapped(let e): return e.shape[0]
        case .random(let rows, _, _): return rows
        }
    }

    func copyRow(_ r: Int, to out: UnsafeMutablePointer<Float>) {
        switch self {
        case .mapped(let e): e.copyRow(r, to: out)
        case let .random(_, cols, seed):
            let values = uniformRandomFloats(count: cols, std: 0.02, seed: seed ^ UInt64(r))
            for i in 0..<cols { out[i] = values[i] }
        }
    }
}

/// The tensor names of each Janus layout.
struct JanusNames {
    let layout: JanusKeyLayout

    var languageModel: String { layout == .transformers ? "model.language_model." : "language_model.model." }
    var vqModel: String { layout == .transformers ? "model.vqmodel." : "gen_vision_model." }
    var imageEmbedding: String { layout == .transformers ? "model.generation_embeddings.weight" : "gen_embed.weight" }

    /// The aligner's k-th linear layer (k = 0 ..< depth).
    func aligner(_ k: Int) -> String {
        switch layout {
        case .transformers: return k == 0 ? "model.generation_aligner.fc1" : "model.generation_aligner.hidden_layers.\(k - 1)"
        case .deepseek: return "gen_aligner.layers.\(2 * k)"  // Linear, GELU, Linear, …
        }
    }

    var headProjection: String { layout == .transformers ? "model.generation_head.proj_out" : "gen_head.output_mlp_projector" }
    var headOutput: String { layout == .transformers ? "model.generation_head.vision_head" : "gen_head.vision_head" }

    /// transformers' VQ names → LlamaGen's (which `VQDecoder` reads); the deepseek layout already uses
    /// LlamaGen's. Encoder and quantizer bookkeeping tensors are dropped.
    func llamaGenVQName(_ name: String) -> String? {
        if name.hasPrefix("encoder.") || name.hasPrefix("quant_conv.") { return nil }
        guard layout == .transformers else { return name }
        var parts = name.split(separator: ".").map(String.init)
        if parts.count > 2, parts[0] == "decoder", parts[1] == "mid" {
            guard let i = ["block_1", "attn_1", "block_2"].firstIndex(of: parts[2]) else { return name }
            parts[2] = String(i)
        } else if parts.count > 3, parts[0] == "decoder", parts[1] == "up" {
            parts[1] = "conv_blocks"
            if parts[3] == "block" { parts[3] = "res" }
        }
        return parts.joined(separator: ".")
    }
}

/// Every weight image generation with Janus reads, verified by name and shape: the Llama layers, the text
/// embedding (for the prompt), the image-token embedding and aligner (input), the generation head
/// (output). The SigLIP tower, its aligner and the text head are never read.
public struct JanusWeights: Sendable {
    public var textEmbedding: EmbeddingRows
    public var layers: [DecoderLayerWeights]
    public var norm: [Float]
    /// [codes, embedDim] row-major (gen_embed).
    public var imageEmbedding: [Float]
    public var imageEmbedDim: Int
    /// gen_embed width → LM width, GELU between layers.
    public var aligner: [Linear]
    /// LM width → head width (GELU) → codes.
    public var headProjection: Linear
    public var headOutput: Linear

    public var precision: WeightPrecision { headOutput.weight.precision }
    public var imageVocabulary: Int { headOutput.outputs }

    /// Bytes of every matrix one decoding pass streams (layers and head; the aligner runs on a few rows).
    public var streamedBytes: Int {
        layers.reduce(0) { $0 + $1.matrixBytes } + headProjection.weight.byteCount + headOutput.weight.byteCount
            + aligner.reduce(0) { $0 + $1.weight.byteCount }
    }

    /// RMSNorm weights (the layers' two and the final one).
    var normCount: Int { norm.count + layers.reduce(0) { $0 + $1.normCount } }

    /// The float32 parameters beside the matrices: norms, biases and the gen_embed table.
    var smallParameterCount: Int {
        normCount + ([headProjection, headOutput] + aligner).reduce(0) { $0 + ($1.bias?.count ?? 0) } + imageEmbedding.count
    }

    /// Bytes of every weight held in memory (the text embedding is read in place from the checkpoint and
    /// not counted).
    public var byteCount: Int { streamedBytes + 4 * smallParameterCount }

    /// Loads and verifies the weights `config` needs from `checkpoint` (named in `config.layout`).
    public init(config: JanusConfig, checkpoint: Checkpoint, precision: WeightPrecision = .float32) throws {
        let names = JanusNames(layout: config.layout), s = config.text.shape, lm = names.languageModel
        let load = WeightLoader(checkpoint: checkpoint, precision: precision)
        textEmbedding = .mapped(try load.entry(lm + "embed_tokens.weight", [config.text.vocab_size, s.dim]))
        layers = try (0..<s.layers).map { i in
            let p = lm + "layers.\(i)."
            let q = s.heads * s.headDim, kv = s.kvHeads * s.headDim
            return DecoderLayerWeights(
                wqkv: try load.stacked([(p + "self_attn.q_proj.weight", q), (p + "self_attn.k_proj.weight", kv),
                                        (p + "self_attn.v_proj.weight", kv)], cols: s.dim),
                wo: try load.matrix(p + "self_attn.o_proj.weight", rows: s.dim, cols: q),
                w13: try load.stacked([(p + "mlp.gate_proj.weight", s.ffnHidden), (p + "mlp.up_proj.weight", s.ffnHidden)], cols: s.dim),
                w2: try load.matrix(p + "mlp.down_proj.weight", rows: s.dim, cols: s.ffnHidden),
                attentionNorm: try load.vector(p + "input_layernorm.weight", s.dim),
                ffnNorm: try load.vector(p + "post_attention_layernorm.weight", s.dim))
        }
        norm = try load.vector(lm + "norm.weight", s.dim)
        let table = try load.entry(names.imageEmbedding, [nil, nil])
        imageEmbedDim = table.shape[1]
        imageEmbedding = table.floats()
        var width = imageEmbedDim
        aligner = try (0..<config.alignerDepth).map { k in
            let layer = try load.linear(names.aligner(k), inputs: width, outputs: k == config.alignerDepth - 1 ? s.dim : nil)
            width = layer.outputs
            return layer
        }
        headProjection = try load.linear(names.headProjection, inputs: s.dim, outputs: nil)
        headOutput = try load.linear(names.headOutput, inputs: headProjection.outputs, outputs: table.shape[0])
    }

    /// Random weights at `config`'s shapes (uniform, std 0.02; norms 1; biases 0) with `codes` image
    /// tokens of `embedDim` dimensions and a head `headWidth` wide, built fast for benchmarks.
    public init(randomFor config: JanusConfig, codes: Int, embedDim: Int, headWidth: Int, seed: UInt64,
                precision: WeightPrecision) {
        var seeds = RandomSource(seed: seed)
        func values(_ rows: Int, _ cols: Int) -> [Float] { uniformRandomFloats(count: rows * cols, std: 0.02, seed: seeds.next()) }
        func linear(_ inputs: Int, _ outputs: Int) -> Linear {
            Linear(weight: WeightMatrix(rows: outputs, cols: inputs, values(outputs, inputs), precision: precision),
                   bias: [Float](repeating: 0, count: outputs))
        }
        let s = config.text.shape
        textEmbedding = .random(rows: config.text.vocab_size, cols: s.dim, seed: seeds.next())
        layers = (0..<s.layers).map { _ in DecoderLayerWeights.filled(s, precision: precision, values: values) }
        norm = [Float](repeating: 1, count: s.dim)
        imageEmbedding = values(codes, embedDim)
        imageEmbedDim = embedDim
        aligner = (0..<config.alignerDepth).map { k in linear(k == 0 ? embedDim : s.dim, s.dim) }
        headProjection = linear(s.dim, headWidth)
        headOutput = linear(headWidth, codes)
    }
}
