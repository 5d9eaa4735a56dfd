import Foundation

/// Every weight image generation with Lumina-mGPT reads, verified by name and shape
/// (`ChameleonForConditionalGeneration`'s names): the token embedding, the Llama layers with their q/k
/// LayerNorms, the final norm, and the rows of lm_head for the image tokens (in code order: the head is
/// restricted to what may follow inside an image). Any other tensor but the unused image encoder
/// (`model.vqmodel.*`) is an error.
public struct LuminaWeights: Sendable {
    public var embedding: EmbeddingRows
    public var layers: [DecoderLayerWeights]
    public var qkNorms: [QKNormWeights]
    public var norm: [Float]
    /// [codes, dim]: lm_head row imageIDs[code] for each code.
    public var head: WeightMatrix

    public var precision: WeightPrecision { head.precision }

    /// Bytes of every weight held in memory (the embedding is read in place from the checkpoint).
    public var byteCount: Int {
        layers.reduce(0) { $0 + $1.matrixBytes } + head.byteCount
            + 4 * (norm.count + layers.reduce(0) { $0 + $1.normCount } + qkNorms.reduce(0) { $0 + $1.parameterCount })
    }

    /// Loads and verifies the weights of `config` from `checkpoint`; `imageIDs` are the vocabulary ids of
    /// the codes, in code order.
    public init(config: LuminaConfig, checkpoint: Checkpoint, imageIDs: [Int], precision: WeightPrecision) throws {
        let s = config.text.shape, vocab = config.text.vocab_size
        let load = WeightLoader(checkpoint: checkpoint, precision: precision)
        var used: Set<String> = []
        func name(_ n: String) -> String { used.insert(n); return n }
        embedding = .mapped(try load.entry(name("model.embed_tokens.weight"), [vocab, s.dim]))
        let q = s.heads * s.headDim, kv = s.kvHeads * s.headDim
        var norms: [QKNormWeights] = []
        layers = try (0..<s.layers).map { i in
            let p = "model.layers.\(i)."
            func perHead(_ n: String, heads: Int) throws -> [Float] {
                let e = try load.entry(name(p + n), [nil, s.headDim])
                let rows = e.shape[0]
                guard rows == heads || rows == config.model_parallel_size else {
                    throw CheckpointError(checkpoint.path, "weight \(quoted(p + n)) has \(rows) rows, expected \(heads) (one per head) or model_parallel_size \(config.model_parallel_size)")
                }
                let values = e.floats(), repeatCount = heads / rows
                return (0..<heads).flatMap { h in values[(h / repeatCount) * s.headDim ..< (h / repeatCount + 1) * s.headDim] }
            }
            norms.append(QKNormWeights(queryWeight: try perHead("self_attn.q_norm.weight", heads: s.heads),
                                       queryBias: try perHead("self_attn.q_norm.bias", heads: s.heads),
                                       keyWeight: try perHead("self_attn.k_norm.weight", heads: s.kvHeads),
                                       keyBias: try perHead("self_attn.k_norm.bias", heads: s.kvHeads)))
            return DecoderLayerWeights(
                wqkv: try load.stacked([(name(p + "self_attn.q_proj.weight"), q), (name(p + "self_attn.k_proj.weight"), kv),
                                        (name(p + "self_attn.v_proj.weight"), kv)], cols: s.dim),
                wo: try load.matrix(name(p + "self_attn.o_proj.weight"), rows: s.dim, cols: q),
                w13: try load.stacked([(name(p + "mlp.gate_proj.weight"), s.ffnHidden), (name(p + "mlp.up_proj.weight"), s.ffnHidden)], cols: s.dim),
                w2: try load.matrix(name(p + "mlp.down_proj.weight"), rows: s.dim, cols: s.ffnHidden),
                attentionNorm: try load.vector(name(p + "input_layernorm.weight"), s.dim),
                ffnNorm: try load.vector(name(p + "post_attention_layernorm.weight"), s.dim))
        }
        qkNorms = norms
        norm = try load.vector(name("model.norm.weight"), s.dim)
        let lmHead = try load.entry(name("lm_head.weight"), [vocab, s.dim])
        if let bad = imageIDs.first(where: { !(0..<vocab).contains($0) }) {
            throw CheckpointError(checkpoint.path, "image token id \(bad) lies outside lm_head's \(vocab) rows")
        }
        var rows = [Float](repeating: 0, count: imageIDs.count * s.dim)
        rows.withUnsafeMutableBufferPointer { out in
            for (code, id) in imageIDs.enumerated() { lmHead.copyRow(id, to: out.baseAddress! + code * s.dim) }
        }
        lmHead.releasePages()
        head = WeightMatrix(rows: imageIDs.count, cols: s.dim, rows, precision: precision)
        if let extra = checkpoint.names.first(where: { !used.contains($0) && !$0.hasPrefix("model.vqmodel.") }) {
            throw CheckpointError(checkpoint.path, "unexpected weight \(quoted(extra)) (not part of a Chameleon text model)")
        }
    }
}
