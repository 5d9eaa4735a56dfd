/// The weights of a Llama-layout text-to-image model whose head is restricted to the image tokens
/// (Lumina-mGPT, Emu3), as the benchmark counts them.
protocol LlamaLayoutWeights {
    var embedding: EmbeddingRows { get }
    var layers: [DecoderLayerWeights] { get }
    var norm: [Float] { get }
    /// [codes, dim]: the image-token rows of lm_head.
    var head: WeightMatrix { get }
    /// Bytes of every weight held in memory.
    var byteCount: Int { get }
    /// Float32 parameters beside the matrices and the RMSNorms (Lumina's q/k norms); 0 by default.
    var extraSmallParameterCount: Int { get }
}

extension LlamaLayoutWeights {
    var extraSmallParameterCount: Int { 0 }
    /// Elements of the matrices one pass streams (layers and the image-row head).
    var streamedParameterCount: Int { (layers.flatMap(\.matrices) + [head]).reduce(0) { $0 + $1.rows * $1.cols } }
    /// Float32 parameters beside the matrices (norms, and the family's extra ones).
    var smallParameterCount: Int { norm.count + layers.reduce(0) { $0 + $1.normCount } + extraSmallParameterCount }
}

/// The parts random Llama-layout weights share, built fast for benchmarks: an embedding of `vocab` rows
/// computed per row on demand (never stored), the layers (uniform, std 0.02), a final norm of ones and a
/// head of `codes` rows, drawn in that order from `seed`.
struct RandomLlamaWeights {
    var embedding: EmbeddingRows
    var layers: [DecoderLayerWeights]
    var norm: [Float]
    var head: WeightMatrix

    init(shape s: TransformerShape, vocab: Int, codes: Int, seed: UInt64, precision: WeightPrecision) {
        var seeds = RandomSource(seed: seed)
        func values(_ rows: Int, _ cols: Int) -> [Float] { uniformRandomFloats(count: rows * cols, std: 0.02, seed: seeds.next()) }
        embedding = .random(rows: vocab, cols: s.dim, seed: seeds.next())
        layers = (0..<s.layers).map { _ in DecoderLayerWeights.filled(s, precision: precision, values: values) }
        norm = [Float](repeating: 1, count: s.dim)
        head = WeightMatrix(rows: codes, cols: s.dim, values(codes, s.dim), precision: precision)
    }
}
