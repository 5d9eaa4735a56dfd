/// The weights of one decoder layer, row-major [out, in] as stored by PyTorch's nn.Linear, fused where one
/// product can serve several projections.
public struct DecoderLayerWeights: Sendable {
    /// [ (heads + 2·kvHeads)·headDim, dim ]: rows q | k | v.
    public var wqkv: WeightMatrix
    /// [dim, heads·headDim]
    public var wo: WeightMatrix
    /// Gate (w1) and up (w3) stacked: [2·hidden, dim], rows of w1 then rows of w3, so one product gives both.
    public var w13: WeightMatrix
    /// Down projection [dim, hidden].
    public var w2: WeightMatrix
    public var attentionNorm: [Float]
    public var ffnNorm: [Float]

    public init(wqkv: WeightMatrix, wo: WeightMatrix, w13: WeightMatrix, w2: WeightMatrix,
                attentionNorm: [Float], ffnNorm: [Float]) {
        self.wqkv = wqkv
        self.wo = wo
        self.w13 = w13
        self.w2 = w2
        self.attentionNorm = attentionNorm
        self.ffnNorm = ffnNorm
    }

    /// The four matrices (what one pass streams).
    var matrices: [WeightMatrix] { [wqkv, wo, w13, w2] }

    /// Bytes of the four matrices.
    var matrixBytes: Int { matrices.reduce(0) { $0 + $1.byteCount } }

    /// RMSNorm weights of the layer (float32).
    var normCount: Int { attentionNorm.count + ffnNorm.count }

    /// Random weights at `shape` from `values(rows, cols)`, called in the order wqkv, wo, w13, w2; norms 1.
    static func filled(_ s: TransformerShape, precision: WeightPrecision, values: (Int, Int) -> [Float]) -> DecoderLayerWeights {
        func r(_ rows: Int, _ cols: Int) -> WeightMatrix { WeightMatrix(rows: rows, cols: cols, values(rows, cols), precision: precision) }
        let ones = [Float](repeating: 1, count: s.dim)
        return DecoderLayerWeights(wqkv: r(s.qkvWidth, s.dim), wo: r(s.dim, s.attentionWidth), w13: r(2 * s.ffnHidden, s.dim),
                                   w2: r(s.dim, s.ffnHidden), attentionNorm: ones, ffnNorm: ones)
    }
}
