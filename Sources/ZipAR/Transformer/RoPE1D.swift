import Foundation

/// Hugging Face Llama's rotary embedding ("default" rope type): position p rotates the pair (i, i + d/2)
/// of each head by p·freq_i, freq_i = base^(−2i/d) ("rotate half"). Angles are formed in float32 as
/// transformers forms them (inv_freq in float32, times the position in float32).
public struct RoPE1D: Sendable {
    /// Pairs per head (head_dim / 2).
    public let pairs: Int
    /// Positions the table covers (0 ..< positions).
    public let positions: Int
    /// [positions][pairs] cosines and sines.
    let cos: [Float], sin: [Float]

    public init(positions: Int, headDim: Int, base: Double) {
        let half = headDim / 2
        pairs = half
        self.positions = positions
        let inverse: [Float] = (0..<half).map { i in 1 / powf(Float(base), Float(2 * i) / Float(headDim)) }
        var c = [Float](repeating: 0, count: positions * half), s = c
        for p in 0..<positions {
            for i in 0..<half {
                let angle = Float(p) * inverse[i]
                c[p * half + i] = cosf(angle)
                s[p * half + i] = sinf(angle)
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
                        let a = v[i], b = v[i + pairs]
                        v[i] = a * c[i] - b * s[i]
                        v[i + pairs] = b * c[i] + a * s[i]
                    }
                }
            }
        }
    }
}

/// The rotary embedding a family's attention uses, applied to the q and k heads of one input.
public enum Rotary: Sendable {
    /// LlamaGen's 2D table over the grid (interleaved pairs; condition rows unrotated).
    case grid(RoPE2D)
    /// Llama's 1D rotate-half over sequence positions.
    case sequence(RoPE1D)

    /// Positions the table covers.
    public var positions: Int {
        switch self {
        case .grid(let r): return r.positions
        case .sequence(let r): return r.positions
        }
    }

    @inline(__always)
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        switch self {
        case .grid(let r): r.apply(x, heads: heads, position: position)
        case .sequence(let r): r.apply(x, heads: heads, position: position)
        }
    }
}
