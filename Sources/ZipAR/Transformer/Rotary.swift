import Foundation

/// A rotary position table: for each position, a cosine and sine per rotated pair of each head, and which
/// elements of a head form a pair. Angles are formed in float32 as the references form them.
public struct Rotary: Sendable {
    /// Which elements of a head vector of width 2·pairs rotate together.
    public enum Pairing: Sendable {
        /// (2i, 2i+1): LlamaGen's complex-number view.
        case interleaved
        /// (i, i + pairs): Hugging Face Llama's rotate_half.
        case halves
    }
    public let pairs: Int
    /// Positions the table covers (0 ..< positions).
    public let positions: Int
    public let pairing: Pairing
    /// [positions][pairs] cosines and sines.
    let cos: [Float], sin: [Float]

    /// A table whose pair i at position p rotates by `angle(p, i)`; nil gives cos = sin = 0 there.
    init(positions: Int, pairs: Int, pairing: Pairing, angle: (Int, Int) -> Float?) {
        self.positions = positions
        self.pairs = pairs
        self.pairing = pairing
        var c = [Float](repeating: 0, count: positions * pairs), s = c
        for p in 0..<positions {
            for i in 0..<pairs {
                if let a = angle(p, i) {
                    c[p * pairs + i] = cosf(a)
                    s[p * pairs + i] = sinf(a)
                }
            }
        }
        cos = c
        sin = s
    }

    /// LlamaGen's 2D table: `conditionTokens` leading positions of zeros (LlamaGen multiplies the
    /// condition's q and k by cos = sin = 0), then one position per grid cell in raster order. Pair i < head_dim/4 rotates by row·freq_i, pair i ≥ head_dim/4 by
    /// column·freq_(i − head_dim/4), freq_k = base^(−2k/(head_dim/2)).
    public static func llamaGen2D(gridSize: Int, headDim: Int, base: Double, conditionTokens: Int) -> Rotary {
        let half = headDim / 2, quarter = headDim / 4
        let freqs: [Float] = (0..<quarter).map { k in 1 / powf(Float(base), Float(2 * k) / Float(half)) }
        return Rotary(positions: conditionTokens + gridSize * gridSize, pairs: half, pairing: .interleaved) { p, i in
            guard p >= conditionTokens else { return nil }
            let r = Float((p - conditionTokens) / gridSize), col = Float((p - conditionTokens) % gridSize)
            return i < quarter ? r * freqs[i] : col * freqs[i - quarter]
        }
    }

    /// Hugging Face Llama's "default" rope: position p rotates pair (i, i + d/2) by p·freq_i,
    /// freq_i = base^(−2i/d) (inv_freq in float32, times the position in float32).
    public static func llama1D(positions: Int, headDim: Int, base: Double) -> Rotary {
        let inverse: [Float] = (0..<headDim / 2).map { i in 1 / powf(Float(base), Float(2 * i) / Float(headDim)) }
        return Rotary(positions: positions, pairs: headDim / 2, pairing: .halves) { p, i in Float(p) * inverse[i] }
    }

    /// Rotates `heads` consecutive head vectors of width 2·pairs in place, for sequence position `position`.
    @inline(__always)
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        let (step, stride) = pairing == .interleaved ? (2, 1) : (1, pairs)
        cos.withUnsafeBufferPointer { cp in
            sin.withUnsafeBufferPointer { sp in
                let c = cp.baseAddress! + position * pairs, s = sp.baseAddress! + position * pairs
                for h in 0..<heads {
                    let v = x + h * 2 * pairs
                    for i in 0..<pairs {
                        let a = v[i * step], b = v[i * step + stride]
                        v[i * step] = a * c[i] - b * s[i]
                        v[i * step + stride] = b * c[i] + a * s[i]
                    }
                }
            }
        }
    }
}
