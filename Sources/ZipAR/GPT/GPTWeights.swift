import Foundation

/// The weights of one transformer layer, row-major [out, in] as stored by PyTorch's nn.Linear.
public struct GPTLayerWeights: Sendable {
    /// [ (n_head + 2·n_kv_head)·head_dim, dim ]: rows q | k | v.
    public var wqkv: [Float]
    /// [dim, dim]
    public var wo: [Float]
    /// w1 and w3 stacked: [2·hidden, dim] (rows of w1, then rows of w3), so one product gives both.
    public var w13: [Float]
    /// [dim, hidden]
    public var w2: [Float]
    public var attentionNorm: [Float]
    public var ffnNorm: [Float]
}

/// Every weight of a LlamaGen GPT, verified by name and shape against its config.
public struct GPTWeights: Sendable {
    /// [classTableRows, dim]; the row `num_classes` is the null class used for CFG.
    public var classEmbedding: [Float]
    /// [vocab_size, dim]
    public var tokenEmbedding: [Float]
    public var layers: [GPTLayerWeights]
    /// Final RMSNorm weight [dim].
    public var norm: [Float]
    /// Untied head [vocab_size, dim].
    public var output: [Float]

    /// Every weight name and shape a checkpoint must hold for `config` (extra keys are ignored).
    public static func expectedShapes(_ c: GPTConfig) -> [(String, [Int])] {
        var list: [(String, [Int])] = [
            ("cls_embedding.embedding_table.weight", [c.classTableRows, c.dim]),
            ("tok_embeddings.weight", [c.vocab_size, c.dim]),
            ("norm.weight", [c.dim]),
            ("output.weight", [c.vocab_size, c.dim]),
        ]
        let qkvRows = (c.n_head + 2 * c.kvHeads) * c.headDim
        for i in 0..<c.n_layer {
            let p = "layers.\(i)."
            list += [
                (p + "attention.wqkv.weight", [qkvRows, c.dim]),
                (p + "attention.wo.weight", [c.dim, c.dim]),
                (p + "feed_forward.w1.weight", [c.ffnHidden, c.dim]),
                (p + "feed_forward.w3.weight", [c.ffnHidden, c.dim]),
                (p + "feed_forward.w2.weight", [c.dim, c.ffnHidden]),
                (p + "attention_norm.weight", [c.dim]),
                (p + "ffn_norm.weight", [c.dim]),
            ]
        }
        return list
    }

    /// Loads and verifies every weight; the first missing or mis-shaped one is an error naming the key.
    public init(config c: GPTConfig, checkpoint ck: Checkpoint) throws {
        for (name, shape) in GPTWeights.expectedShapes(c) { _ = try GPTWeights.checkShape(ck, name, shape) }
        func w(_ name: String) throws -> [Float] { try ck.entry(name).floats() }
        classEmbedding = try w("cls_embedding.embedding_table.weight")
        tokenEmbedding = try w("tok_embeddings.weight")
        norm = try w("norm.weight")
        output = try w("output.weight")
        layers = try (0..<c.n_layer).map { i in
            let p = "layers.\(i)."
            return GPTLayerWeights(
                wqkv: try w(p + "attention.wqkv.weight"), wo: try w(p + "attention.wo.weight"),
                w13: try w(p + "feed_forward.w1.weight") + w(p + "feed_forward.w3.weight"),
                w2: try w(p + "feed_forward.w2.weight"),
                attentionNorm: try w(p + "attention_norm.weight"), ffnNorm: try w(p + "ffn_norm.weight"))
        }
    }

    private static func checkShape(_ ck: Checkpoint, _ name: String, _ shape: [Int]) throws -> TensorEntry {
        let e = try ck.entry(name)
        guard e.shape == shape else {
            throw CheckpointError(ck.path, "weight '\(name)' has shape \(e.shape), expected \(shape) for this config")
        }
        return e
    }

    /// Random weights at the config's real shapes (normal, std 0.02; norms 1), for benchmarks and tests.
    public init(randomFor c: GPTConfig, seed: UInt64) {
        var rng = RandomSource(seed: seed)
        func r(_ n: Int) -> [Float] { (0..<n).map { _ in rng.nextGaussian() * 0.02 } }
        let ones = [Float](repeating: 1, count: c.dim)
        classEmbedding = r(c.classTableRows * c.dim)
        tokenEmbedding = r(c.vocab_size * c.dim)
        norm = ones
        output = r(c.vocab_size * c.dim)
        layers = (0..<c.n_layer).map { _ in
            GPTLayerWeights(wqkv: r((c.n_head + 2 * c.kvHeads) * c.headDim * c.dim), wo: r(c.dim * c.dim),
                            w13: r(2 * c.ffnHidden * c.dim), w2: r(c.dim * c.ffnHidden),
                            attentionNorm: ones, ffnNorm: ones)
        }
    }

    /// The weights under their LlamaGen names (w13 split back into w1 and w3), e.g. to write a safetensors file.
    public func named(_ c: GPTConfig) -> [(name: String, shape: [Int], data: [Float])] {
        var out: [(name: String, shape: [Int], data: [Float])] = [
            ("cls_embedding.embedding_table.weight", [c.classTableRows, c.dim], classEmbedding),
            ("tok_embeddings.weight", [c.vocab_size, c.dim], tokenEmbedding),
            ("norm.weight", [c.dim], norm),
            ("output.weight", [c.vocab_size, c.dim], output),
        ]
        let half = c.ffnHidden * c.dim
        for (i, l) in layers.enumerated() {
            let p = "layers.\(i)."
            out += [
                (p + "attention.wqkv.weight", [(c.n_head + 2 * c.kvHeads) * c.headDim, c.dim], l.wqkv),
                (p + "attention.wo.weight", [c.dim, c.dim], l.wo),
                (p + "feed_forward.w1.weight", [c.ffnHidden, c.dim], Array(l.w13[..<half])),
                (p + "feed_forward.w3.weight", [c.ffnHidden, c.dim], Array(l.w13[half...])),
                (p + "feed_forward.w2.weight", [c.dim, c.ffnHidden], l.w2),
                (p + "attention_norm.weight", [c.dim], l.attentionNorm),
                (p + "ffn_norm.weight", [c.dim], l.ffnNorm),
            ]
        }
        return out
    }
}
