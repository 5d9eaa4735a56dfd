import Foundation

/// LlamaGen's 2D rotary table: `cls_token_num` leading rows of zeros (the condition's q and k are multiplied
/// by cos = sin = 0), then one row per grid cell in raster order. Per head, pair i < head_dim/4 rotates by
/// row·freq_i, pair i ≥ head_dim/4 by column·freq_(i − head_dim/4), freq_k = base^(−2k/(head_dim/2)).
/// Computed in float32 as the reference does.
public struct RoPE2D: Sendable {
    /// Pairs per head (head_dim / 2).
    public let pairs: Int
    /// [positions][pairs] cosines and sines.
    let cos: [Float], sin: [Float]
    public let positions: Int

    public init(gridSize: Int, headDim: Int, base: Double, conditionTokens: Int) {
        let half = headDim / 2, quarter = headDim / 4
        pairs = half
        positions = conditionTokens + gridSize * gridSize
        let freqs: [Float] = (0..<quarter).map { k in 1 / powf(Float(base), Float(2 * k) / Float(half)) }
        var c = [Float](repeating: 0, count: positions * half), s = c
        for r in 0..<gridSize {
            for col in 0..<gridSize {
                let row = conditionTokens + r * gridSize + col
                for i in 0..<half {
                    let angle = i < quarter ? Float(r) * freqs[i] : Float(col) * freqs[i - quarter]
                    c[row * half + i] = cosf(angle)
                    s[row * half + i] = sinf(angle)
                }
            }
        }
        cos = c
        sin = s
    }

    /// Rotates `heads` consecutive head vectors of width 2·pairs in place, for sequence position `position`.
    @inline(__always)
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        cos.withUnsafeBufferPointer { cp in
            sin.withUnsafeBufferPointer { sp in
                let c = cp.baseAddress! + position * pairs, s = sp.baseAddress! + position * pairs
                for h in 0..<heads {
                    let v = x + h * 2 * pairs
                    for i in 0..<pairs {
                        let a = v[2 * i], b = v[2 * i + 1]
                        v[2 * i] = a * c[i] - b * s[i]
                        v[2 * i + 1] = b * c[i] + a * s[i]
                    }
                }
            }
        }
    }
}
