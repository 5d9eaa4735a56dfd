extension GPTWeights {
    /// Bytes one pass reads in full: every layer matrix, the output head and the RMSNorm weights.
    /// Embedding rows are gathered (a few per pass) and not counted.
    var bytesReadPerPass: Int { streamedBytes + normCount * MemoryLayout<Float>.size }

    /// Weights in total, embeddings included.
    var parameterCount: Int {
        let matrices = [classEmbedding, tokenEmbedding, output] + layers.flatMap { [$0.wqkv, $0.wo, $0.w13, $0.w2] }
        return matrices.reduce(0) { $0 + $1.rows * $1.cols } + normCount
    }

    /// Elements of the matrices `streamedBytes` counts (layers and head).
    var streamedParameterCount: Int {
        ([output] + layers.flatMap { [$0.wqkv, $0.wo, $0.w13, $0.w2] }).reduce(0) { $0 + $1.rows * $1.cols }
    }

    private var normCount: Int { norm.count + layers.reduce(0) { $0 + $1.attentionNorm.count + $1.ffnNorm.count } }
}
