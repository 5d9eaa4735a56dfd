#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Gumbel noise fixed by (seed, image position, vocabulary id): a pure function, so every schedule that
/// picks the token of image position n from logits sees the same noise for n, whatever pass, window or
/// batch it picks it in. The uniform behind each value is SplitMix64's output at the counter
/// (position << 32 | id) of the stream the seed selects (a counter-based generator: no state, no order).
public struct GumbelNoise: Sendable, Equatable {
    public let seed: UInt64
    private let key: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        key = GumbelNoise.mix(seed &+ 0x6A09_E667_F3BC_C909)
    }

    /// The uniform in (0, 1) of (position, id): 53 random bits, offset by half a step so it is never 0 or 1.
    public func uniform(position: Int, id: Int) -> Double {
        let counter = UInt64(truncatingIfNeeded: position) << 32 | UInt64(truncatingIfNeeded: id) & 0xFFFF_FFFF
        let bits = GumbelNoise.mix(key &+ counter &* 0x9E37_79B9_7F4A_7C15)
        return (Double(bits >> 11) + 0.5) * 0x1p-53
    }

    /// Standard Gumbel noise −log(−log U) of (position, id).
    public func value(position: Int, id: Int) -> Double { -log(-log(uniform(position: position, id: id))) }

    /// SplitMix64's output function.
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
