import Foundation

/// Every weight of a LlamaGen GPT, verified by name and shape against its config.
public struct GPTWeights: Sendable {
    /// [classTableRows, dim]; the row `num_classes` is the null class used for CFG.
    public var classEmbedding: WeightMatrix
    /// [vocab_size, dim]
    public var tokenEmbedding: WeightMatrix
    public var layers: [DecoderLayerWeights]
    /// Final RMSNorm weight [dim].
    public var norm: [Float]
    /// Untied head [vocab_size, dim].
    public var output: WeightMatrix

    /// Storage precision of the matrices (generation keeps its KV cache in the same precision).
    public var precision: WeightPrecision { output.precision }

    /// Bytes of every matrix a decoding pass reads in full (layers and head; embeddings are gathered rows).
    public var streamedBytes: Int {
        output.byteCount + layers.reduce(0) { $0 + $1.matrixBytes }
    }

    /// Bytes of every weight held: packed matrices (scales included), embeddings and norms.
    public var byteCount: Int { classEmbedding.byteCount + tokenEmbedding.byteCount + streamedBytes + 4 * normCount }

    /// RMSNorm weights (the layers' two and the final one).
    var normCount: Int { norm.count + layers.reduce(0) { $0 + $1.normCount } }

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
    /// Matrices are kept in `precision` (bfloat16 halves the bytes every pass reads, int8 quarters them);
    /// embeddings in `precision.gathered`; norms stay float32.
    public init(config c: GPTConfig, checkpoint ck: Checkpoint, precision: WeightPrecision = .float32) throws {
        let load = WeightLoader(checkpoint: ck, precision: precision)
        for (name, shape) in GPTWeights.expectedShapes(c) { _ = try load.entry(name, shape) }
        classEmbedding = try load.embedding("cls_embedding.embedding_table.weight", rows: c.classTableRows, cols: c.dim)
        tokenEmbedding = try load.embedding("tok_embeddings.weight", rows: c.vocab_size, cols: c.dim)
        norm = try load.vector("norm.weight", c.dim)
        output = try load.matrix("output.weight", rows: c.vocab_size, cols: c.dim)
        layers = try (0..<c.n_layer).map { i in
            let p = "layers.\(i)."
            return DecoderLayerWeights(
                wqkv: try load.matrix(p + "attention.wqkv.weight", rows: nil, cols: c.dim),
                wo: try load.matrix(p + "attention.wo.weight", rows: c.dim, cols: c.dim),
                w13: try load.stacked([(p + "feed_forward.w1.weight", c.ffnHidden), (p + "feed_forward.w3.weight", c.ffnHidden)], cols: c.dim),
                w2: try load.matrix(p + "feed_forward.w2.weight", rows: c.dim, cols: c.ffnHidden),
                attentionNorm: try load.vector(p + "attention_norm.weight", c.dim), ffnNorm: try load.vector(p + "ffn_norm.weight", c.dim))
        }
    }

    /// Random weights at the config's real shapes (normal, std 0.02; norms 1), for benchmarks and tests.
    public init(randomFor c: GPTConfig, seed: UInt64, precision: WeightPrecision = .float32) {
        var rng = RandomSource(seed: seed)
        self.init(shapesOf: c, precision: precision) { rows, cols in (0..<rows * cols).map { _ in rng.nextGaussian() * 0.02 } }
    }

    /// Weights at `c`'s real shapes: every matrix (embeddings included) from `values(rows, cols)`, called
    /// in a fixed order, and every norm 1; embeddings in `precision.gathered`.
    init(shapesOf c: GPTConfig, precision: WeightPrecision, values: (Int, Int) -> [Float]) {
        func r(_ rows: Int, _ cols: Int, _ p: WeightPrecision) -> WeightMatrix { WeightMatrix(rows: rows, cols: cols, values(rows, cols), precision: p) }
        classEmbedding = r(c.classTableRows, c.dim, precision.gathered)
        tokenEmbedding = r(c.vocab_size, c.dim, precision.gathered)
        norm = [Float](repeating: 1, count: c.dim)
        output = r(c.vocab_size, c.dim, precision)
        layers = (0..<c.n_layer).map { _ in DecoderLayerWeights.filled(c.shape, precision: precision, values: values) }
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
