import Foundation

/// The weights of one transformer layer, row-major [out, in] as stored by PyTorch's nn.Linear.
public struct GPTLayerWeights: Sendable {
    /// [ (n_head + 2·n_kv_head)·head_dim, dim ]: rows q | k | v.
    public var wqkv: WeightMatrix
    /// [dim, dim]
    public var wo: WeightMatrix
    /// w1 and w3 stacked: [2·hidden, dim] (rows of w1, then rows of w3), so one product gives both.
    public var w13: WeightMatrix
    /// [dim, hidden]
    public var w2: WeightMatrix
    public var attentionNorm: [Float]
    public var ffnNorm: [Float]
}

/// Every weight of a LlamaGen GPT, verified by name and shape against its config.
public struct GPTWeights: Sendable {
    /// [classTableRows, dim]; the row `num_classes` is the null class used for CFG.
    public var classEmbedding: WeightMatrix
    /// [vocab_size, dim]
    public var tokenEmbedding: WeightMatrix
    public var layers: [GPTLayerWeights]
    /// Final RMSNorm weight [dim].
    public var norm: [Float]
    /// Untied head [vocab_size, dim].
    public var output: WeightMatrix

    /// Storage precision of the matrices (generation keeps its KV cache in the same precision).
    public var precision: WeightPrecision { output.precision }

    /// Bytes of every matrix a decoding pass reads in full (layers and head; embeddings are gathered rows).
    public var streamedBytes: Int {
        output.byteCount + layers.reduce(0) { $0 + $1.wqkv.byteCount + $1.wo.byteCount + $1.w13.byteCount + $1.w2.byteCount }
    }

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
    /// Matrices are kept in `precision` (bfloat16 halves the bytes every pass reads); norms stay float32.
    public init(config c: GPTConfig, checkpoint ck: Checkpoint, precision: WeightPrecision = .float32) throws {
        for (name, shape) in GPTWeights.expectedShapes(c) { _ = try GPTWeights.checkShape(ck, name, shape) }
        func v(_ name: String) throws -> [Float] { try ck.entry(name).floats() }
        func m(_ name: String) throws -> WeightMatrix {
            let e = try ck.entry(name)
            return WeightMatrix(rows: e.shape[0], cols: e.shape[1], e.floats(), precision: precision)
        }
        classEmbedding = try m("cls_embedding.embedding_table.weight")
        tokenEmbedding = try m("tok_embeddings.weight")
        norm = try v("norm.weight")
        output = try m("output.weight")
        layers = try (0..<c.n_layer).map { i in
            let p = "layers.\(i)."
            return GPTLayerWeights(
                wqkv: try m(p + "attention.wqkv.weight"), wo: try m(p + "attention.wo.weight"),
                w13: WeightMatrix(rows: 2 * c.ffnHidden, cols: c.dim,
                                  try v(p + "feed_forward.w1.weight") + v(p + "feed_forward.w3.weight"), precision: precision),
                w2: try m(p + "feed_forward.w2.weight"),
                attentionNorm: try v(p + "attention_norm.weight"), ffnNorm: try v(p + "ffn_norm.weight"))
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
    public init(randomFor c: GPTConfig, seed: UInt64, precision: WeightPrecision = .float32) {
        var rng = RandomSource(seed: seed)
        self.init(shapesOf: c, precision: precision) { rows, cols in (0..<rows * cols).map { _ in rng.nextGaussian() * 0.02 } }
    }

    /// Weights at `c`'s real shapes: every matrix (embeddings included) from `values(rows, cols)`, called
    /// in a fixed order, and every norm 1.
    init(shapesOf c: GPTConfig, precision: WeightPrecision, values: (Int, Int) -> [Float]) {
        func r(_ rows: Int, _ cols: Int) -> WeightMatrix { WeightMatrix(rows: rows, cols: cols, values(rows, cols), precision: precision) }
        let ones = [Float](repeating: 1, count: c.dim)
        classEmbedding = r(c.classTableRows, c.dim)
        tokenEmbedding = r(c.vocab_size, c.dim)
        norm = ones
        output = r(c.vocab_size, c.dim)
        layers = (0..<c.n_layer).map { _ in
            GPTLayerWeights(wqkv: r((c.n_head + 2 * c.kvHeads) * c.headDim, c.dim), wo: r(c.dim, c.dim),
                            w13: r(2 * c.ffnHidden, c.dim), w2: r(c.dim, c.ffnHidden),
                            attentionNorm: ones, ffnNorm: ones)
        }
    }

    /// The weights under their LlamaGen names (w13 split back into w1 and w3), e.g. to write a safetensors file.
    public func named(_ c: GPTConfig) -> [(name: String, shape: [Int], data: [Float])] {
        var out: [(name: String, shape: [Int], data: [Float])] = [
            ("cls_embedding.embedding_table.weight", [c.classTableRows, c.dim], classEmbedding.floats),
            ("tok_embeddings.weight", [c.vocab_size, c.dim], tokenEmbedding.floats),
            ("norm.weight", [c.dim], norm),
            ("output.weight", [c.vocab_size, c.dim], output.floats),
        ]
        let half = c.ffnHidden * c.dim
        for (i, l) in layers.enumerated() {
            let p = "layers.\(i).", w13 = l.w13.floats
            out += [
                (p + "attention.wqkv.weight", [(c.n_head + 2 * c.kvHeads) * c.headDim, c.dim], l.wqkv.floats),
                (p + "attention.wo.weight", [c.dim, c.dim], l.wo.floats),
                (p + "feed_forward.w1.weight", [c.ffnHidden, c.dim], Array(w13[..<half])),
                (p + "feed_forward.w3.weight", [c.ffnHidden, c.dim], Array(w13[half...])),
                (p + "feed_forward.w2.weight", [c.dim, c.ffnHidden], l.w2.floats),
                (p + "attention_norm.weight", [c.dim], l.attentionNorm),
                (p + "ffn_norm.weight", [c.dim], l.ffnNorm),
            ]
        }
        return out
    }
}
