extension GPTWeights {
    /// Bytes one pass reads in full: every layer matrix, the output head and the RMSNorm weights.
    /// Embedding rows are gathered (a few per pass) and not counted.
    var bytesReadPerPass: Int { streamedBytes + normCount * MemoryLayout<Float>.size }

    /// Weights in total, embeddings included.
    var parameterCount: Int {
        let matrices = [classEmbedding, tokenEmbedding, output] + layers.flatMap(\.matrices)
        return matrices.reduce(0) { $0 + $1.rows * $1.cols } + normCount
    }

    /// Elements of the matrices `streamedBytes` counts (layers and head).
    var streamedParameterCount: Int {
        ([output] + layers.flatMap(\.matrices)).reduce(0) { $0 + $1.rows * $1.cols }
    }
}
