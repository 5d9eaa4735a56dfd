/// Chameleon's per-head query/key LayerNorm (`ChameleonLayerNorm`): each head vector is normalised over
/// head_dim (no affine, eps 1e-5), then scaled and shifted by that head's γ and β. γ and β are stored per
/// head here ([heads·headDim]); a checkpoint's [model_parallel_size, headDim] is repeat-interleaved to heads
/// when loaded, as the module does.
public struct QKNormWeights: Sendable {
    /// [heads·headDim] each.
    public var queryWeight: [Float], queryBias: [Float]
    /// [kvHeads·headDim] each.
    public var keyWeight: [Float], keyBias: [Float]
    /// The normalisation epsilon (Chameleon: 1e-5).
    public var eps: Float

    public init(queryWeight: [Float], queryBias: [Float], keyWeight: [Float], keyBias: [Float], eps: Float = 1e-5) {
        precondition(queryWeight.count == queryBias.count && keyWeight.count == keyBias.count, "γ and β of one size")
        self.queryWeight = queryWeight
        self.queryBias = queryBias
        self.keyWeight = keyWeight
        self.keyBias = keyBias
        self.eps = eps
    }

    /// Float32 parameters held.
    var parameterCount: Int { 2 * (queryWeight.count + keyWeight.count) }

    /// Normalises the q and k heads of one qkv row in place (q heads first, then k heads).
    func apply(_ row: UnsafeMutablePointer<Float>, heads: Int, kvHeads: Int, headDim: Int) {
        queryWeight.withUnsafeBufferPointer { w in
            queryBias.withUnsafeBufferPointer { b in
                layerNormHeads(row, heads: heads, headDim: headDim, weight: w.baseAddress!, bias: b.baseAddress!, eps: eps)
            }
        }
        keyWeight.withUnsafeBufferPointer { w in
            keyBias.withUnsafeBufferPointer { b in
                layerNormHeads(row + heads * headDim, heads: kvHeads, headDim: headDim, weight: w.baseAddress!,
                               bias: b.baseAddress!, eps: eps)
            }
        }
    }
}

/// x[h] = (x[h] − mean) / √(var + eps) · weight[h] + bias[h] for each of `heads` vectors of `headDim`
/// (biased variance, as torch's layer_norm), in place.
func layerNormHeads(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, weight: UnsafePointer<Float>,
                    bias: UnsafePointer<Float>, eps: Float) {
    for h in 0..<heads {
        let v = x + h * headDim, w = weight + h * headDim, b = bias + h * headDim
        var mean: Float = 0
        for d in 0..<headDim { mean += v[d] }
        mean /= Float(headDim)
        var variance: Float = 0
        for d in 0..<headDim { let t = v[d] - mean; variance += t * t }
        variance /= Float(headDim)
        let scale = 1 / (variance + eps).squareRoot()
        for d in 0..<headDim { v[d] = (v[d] - mean) * scale * w[d] + b[d] }
    }
}
