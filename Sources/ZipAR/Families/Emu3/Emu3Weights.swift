import Foundation

/// The key layout of an Emu3 -hf checkpoint: transformers' module tree has changed its prefixes, and
/// either may be on disk.
public enum Emu3KeyLayout: Sendable {
    /// `text_model.model.*`, `text_model.lm_head.weight`, `vqmodel.*` (what transformers 5.23's save_pretrained writes).
    case textModelFirst
    /// `model.text_model.*`, `lm_head.weight`, `model.vqmodel.*` (the module tree after transformers#37033).
    case modelFirst

    var body: String { self == .textModelFirst ? "text_model.model." : "model.text_model." }
    var head: String { self == .textModelFirst ? "text_model.lm_head.weight" : "lm_head.weight" }
    var vq: String { self == .textModelFirst ? "vqmodel." : "model.vqmodel." }

    /// The layout whose embedding `checkpoint` holds.
    static func detect(_ checkpoint: Checkpoint) throws -> Emu3KeyLayout {
        for layout in [Emu3KeyLayout.textModelFirst, .modelFirst] where checkpoint.tensors[layout.body + "embed_tokens.weight"] != nil {
            return layout
        }
        throw CheckpointError(checkpoint.path, "no text_model.model.embed_tokens.weight or model.text_model.embed_tokens.weight: not an Emu3 -hf checkpoint")
    }
}

/// Every weight image generation with Emu3 reads, verified by name and shape
/// (`Emu3ForConditionalGeneration`'s names, either `Emu3KeyLayout`): the token embedding, the Llama
/// layers, the final norm, and the rows of lm_head (or of the embedding, when tied) for the visual tokens
/// in code order: the head is restricted to what may follow inside an image row. The image decoder's
/// weights (`vqmodel.*`) are not read; any other tensor is an error.
public struct Emu3Weights: Sendable {
    public var embedding: EmbeddingRows
    public var layers: [DecoderLayerWeights]
    public var norm: [Float]
    /// [codes, dim]: lm_head row visualIDs[code] for each code.
    public var head: WeightMatrix
    public let layout: Emu3KeyLayout

    public var precision: WeightPrecision { head.precision }

    /// Bytes of every weight held in memory (the embedding is read in place from the checkpoint).
    public var byteCount: Int {
        layers.reduce(0) { $0 + $1.matrixBytes } + head.byteCount + 4 * (norm.count + layers.reduce(0) { $0 + $1.normCount })
    }

    /// Loads and verifies the weights of `config` from `checkpoint`; `visualIDs` are the vocabulary ids of
    /// the codes, in code order.
    public init(config: Emu3Config, checkpoint: Checkpoint, visualIDs: [Int], precision: WeightPrecision) throws {
        let s = config.text.shape, vocab = config.text.vocab_size
        layout = try Emu3KeyLayout.detect(checkpoint)
        let load = WeightLoader(checkpoint: checkpoint, precision: precision)
        var used: Set<String> = []
        func name(_ n: String) -> String { used.insert(n); return n }
        let body = layout.body
        let embed = try load.entry(name(body + "embed_tokens.weight"), [vocab, s.dim])
        embedding = .mapped(embed)
        let q = s.heads * s.headDim, kv = s.kvHeads * s.headDim
        layers = try (0..<s.layers).map { i in
            let p = body + "layers.\(i)."
            return DecoderLayerWeights(
                wqkv: try load.stacked([(name(p + "self_attn.q_proj.weight"), q), (name(p + "self_attn.k_proj.weight"), kv),
                                        (name(p + "self_attn.v_proj.weight"), kv)], cols: s.dim),
                wo: try load.matrix(name(p + "self_attn.o_proj.weight"), rows: s.dim, cols: q),
                w13: try load.stacked([(name(p + "mlp.gate_proj.weight"), s.ffnHidden), (name(p + "mlp.up_proj.weight"), s.ffnHidden)], cols: s.dim),
                w2: try load.matrix(name(p + "mlp.down_proj.weight"), rows: s.dim, cols: s.ffnHidden),
                attentionNorm: try load.vector(name(p + "input_layernorm.weight"), s.dim),
                ffnNorm: try load.vector(name(p + "post_attention_layernorm.weight"), s.dim))
        }
        norm = try load.vector(name(body + "norm.weight"), s.dim)
        let tied = checkpoint.tensors[layout.head] == nil && config.tieWordEmbeddings
        let lmHead = tied ? embed : try load.entry(name(layout.head), [vocab, s.dim])
        var rows = [Float](repeating: 0, count: visualIDs.count * s.dim)
        rows.withUnsafeMutableBufferPointer { out in
            for (code, id) in visualIDs.enumerated() { lmHead.copyRow(id, to: out.baseAddress! + code * s.dim) }
        }
        if !tied { lmHead.releasePages() }
        head = WeightMatrix(rows: visualIDs.count, cols: s.dim, rows, precision: precision)
        if let extra = checkpoint.names.first(where: { !used.contains($0) && !$0.hasPrefix(layout.vq) }) {
            throw CheckpointError(checkpoint.path, "unexpected weight \(quoted(extra)) (not part of an Emu3 text model)")
        }
    }
}
