import Foundation

// Random weights at real shapes in a fraction of a second, for benchmarks: uniform values with the
// standard deviation of the Gaussian initialisers (speed does not depend on the distribution), filled in
// parallel chunks that each have their own seeded generator.

/// `count` floats uniform in [−√3·std, √3·std) (standard deviation `std`), the same for the same seed.
func uniformRandomFloats(count: Int, std: Float, seed: UInt64) -> [Float] {
    let halfWidth = std * Float(3).squareRoot()
    let chunk = 1 << 18
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        guard let base = buffer.baseAddress else { initialized = 0; return }
        DispatchQueue.concurrentPerform(iterations: (count + chunk - 1) / chunk) { c in
            var rng = RandomSource(seed: seed ^ (UInt64(c) &* 0x9E37_79B9_7F4A_7C15))
            let start = c * chunk, end = min(count, start + chunk)
            var i = start
            while i < end {
                // two 24-bit uniforms per 64 random bits
                let bits = rng.next()
                (base + i).initialize(to: (Float(bits >> 40) * 0x1p-23 - 1) * halfWidth)
                if i + 1 < end { (base + i + 1).initialize(to: (Float((bits >> 8) & 0xFF_FFFF) * 0x1p-23 - 1) * halfWidth) }
                i += 2
            }
        }
        initialized = count
    }
}

extension GPTWeights {
    /// Random weights at `c`'s real shapes (uniform, std 0.02; norms 1), built fast for benchmarks.
    init(uniformRandomFor c: GPTConfig, seed: UInt64, precision: WeightPrecision) {
        var seeds = RandomSource(seed: seed)
        self.init(shapesOf: c, precision: precision) { rows, cols in
            uniformRandomFloats(count: rows * cols, std: 0.02, seed: seeds.next())
        }
    }
}

extension VQDecoder {
    /// A decoder with random weights at `config`'s real shapes (convolutions uniform with std 1/√fan-in,
    /// norms 1, biases 0), built fast for benchmarks.
    convenience init(uniformRandomFor config: VQConfig, seed: UInt64) throws {
        var seeds = RandomSource(seed: seed)
        try self.init(shapesOf: config) { count, std in uniformRandomFloats(count: count, std: std, seed: seeds.next()) }
    }
}
