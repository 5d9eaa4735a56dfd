import Foundation

/// torch.nn.GroupNorm(32 groups, eps 1e-6, affine) over one channel-first [C, H, W] image, optionally
/// followed by swish. Group statistics are accumulated in double precision (two passes: mean, then the
/// mean squared deviation); the affine step is y = x · scale + shift with scale = γ · rstd and
/// shift = β − mean · scale per channel, as PyTorch computes it.
enum GroupNorm {
    static let groups = 32
    static let eps = 1e-6
    private typealias Vector = SIMD16<Float>

    /// output = norm(input) (then swish when `swish`); `output` may be `input`.
    static func apply(_ w: NormWeights, input: UnsafePointer<Float>, channels: Int, plane: Int,
                      output: UnsafeMutablePointer<Float>, swish: Bool) {
        let perGroup = channels / groups
        let count = perGroup * plane
        DispatchQueue.concurrentPerform(iterations: groups) { g in
            let x = input + g * count
            let mean = sum(x, count: count) / Double(count)
            let variance = sumOfSquaredDeviations(x, count: count, from: Float(mean)) / Double(count)
            let meanF = Float(mean)
            let rstd = Float(1 / (variance + eps).squareRoot())
            for c in g * perGroup..<(g + 1) * perGroup {
                let scale = w.gamma[c] * rstd
                let shift = w.beta[c] - meanF * scale
                affine(input + c * plane, output + c * plane, count: plane, scale: scale, shift: shift, swish: swish)
            }
        }
    }

    /// Elements summed in float vectors before each addition into the double total.
    private static let block = 4096

    private static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        var start = 0
        while start < count {
            let end = min(count, start + block)
            var acc = Vector()
            var i = start
            while i + 16 <= end {
                acc += UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self)
                i += 16
            }
            var tail: Float = 0
            while i < end { tail += x[i]; i += 1 }
            total += Double(acc.sum()) + Double(tail)
            start = end
        }
        return total
    }

    private static func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, count: Int, from mean: Float) -> Double {
        var total = 0.0
        var start = 0
        let m = Vector(repeating: mean)
        while start < count {
            let end = min(count, start + block)
            var acc = Vector()
            var i = start
            while i + 16 <= end {
                let d = UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self) - m
                acc += d * d
                i += 16
            }
            var tail: Float = 0
            while i < end { let d = x[i] - mean; tail += d * d; i += 1 }
            total += Double(acc.sum()) + Double(tail)
            start = end
        }
        return total
    }

    @inline(__always)
    private static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                               scale: Float, shift: Float, swish: Bool) {
        if swish {
            for i in 0..<count { y[i] = Swish.apply(x[i] * scale + shift) }
        } else {
            for i in 0..<count { y[i] = x[i] * scale + shift }
        }
    }
}
