import Foundation

/// Compute peak: a large square float32 `sgemm` (BLAS, on its default threads).
public enum MatmulProbe {
    /// The best and median rate of the timed products, in GFLOP/s (2·n³ FLOPs each).
    public struct Result: Codable, Sendable {
        public var size: Int
        public var repeats: Int
        public var bestGflops: Double
        public var medianGflops: Double
    }

    /// Times `repeats` products C = A·B of n × n matrices, after one untimed product.
    public static func measure(size n: Int, repeats: Int) -> Result {
        let a = uniformRandomFloats(count: n * n, std: 1, seed: 1)
        let b = uniformRandomFloats(count: n * n, std: 1, seed: 2)
        var c = [Float](repeating: 0, count: n * n)
        let flops = 2 * Double(n) * Double(n) * Double(n)
        var rates: [Double] = []
        for i in 0...repeats {
            let seconds = Stopwatch.time {
                c.withUnsafeMutableBufferPointer { sgemm(m: n, n: n, k: n, a: a, b: b, c: $0.baseAddress!) }
            }
            if i > 0 { rates.append(flops / seconds / 1e9) }
        }
        precondition(c.allSatisfy { $0.isFinite }, "matmul probe produced non-finite values")
        return Result(size: n, repeats: repeats, bestGflops: rates.max() ?? 0, medianGflops: median(rates))
    }
}
