/// torch.nn.GroupNorm(32 groups, eps 1e-6, affine) over one channel-first [C, H, W] image, optionally
/// followed by swish, in two passes over the image: one for the group statistics, one writing
/// y = x · scale + shift (then swish) with scale = γ · rstd and shift = β − mean · scale per channel, as
/// PyTorch computes it. Before a Winograd convolution the second pass is left to the convolution, which
/// applies scale, shift and swish as it reads its input (`Conv2D.applyNormalized`).
///
/// The statistics pass reads the image once: each block of `block` values is summed, then its squared
/// deviations from the block mean are summed while it is still in the L1 cache, and the blocks are merged
/// in double precision (Chan et al.'s pairwise update): exact to float rounding, with no cancellation.
enum GroupNorm {
    static let groups = 32
    static let eps = 1e-6
    private typealias Vector = SIMD16<Float>

    /// output = norm(input) (then swish when `swish`); `output` may be `input`. `scale` and `shift` receive
    /// the per-channel affine step (`channels` floats each).
    static func apply(_ w: NormWeights, input: UnsafePointer<Float>, channels: Int, plane: Int,
                      output: UnsafeMutablePointer<Float>, swish: Bool,
                      scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>) {
        affine(w, input: input, channels: channels, plane: plane, scale: scale, shift: shift)
        parallelFor(channels) { c in
            apply(input + c * plane, output + c * plane, count: plane, scale: scale[c], shift: shift[c], swish: swish)
        }
    }

    /// The statistics pass alone: scale[c] and shift[c] such that norm(x)[c] = x[c] · scale[c] + shift[c].
    static func affine(_ w: NormWeights, input: UnsafePointer<Float>, channels: Int, plane: Int,
                       scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>) {
        let perGroup = channels / groups
        let count = perGroup * plane
        parallelFor(groups) { g in
            let (mean, variance) = statistics(input + g * count, count: count)
            let meanF = Float(mean)
            let rstd = Float(1 / (variance + eps).squareRoot())
            for c in g * perGroup..<(g + 1) * perGroup {
                scale[c] = w.gamma[c] * rstd
                shift[c] = w.beta[c] - meanF * scale[c]
            }
        }
    }

    /// Values per block of the statistics pass (16 KiB).
    private static let block = 4096

    /// Mean and (biased) variance of x[0..<count].
    private static func statistics(_ x: UnsafePointer<Float>, count: Int) -> (mean: Double, variance: Double) {
        var n = 0.0, mean = 0.0, m2 = 0.0
        var start = 0
        while start < count {
            let size = min(block, count - start)
            let b = x + start
            let blockMean = sum(b, count: size) / Double(size)
            let blockM2 = sumOfSquaredDeviations(b, count: size, from: Float(blockMean))
            let total = n + Double(size)
            let delta = blockMean - mean
            mean += delta * Double(size) / total
            m2 += blockM2 + delta * delta * n * Double(size) / total
            n = total
            start += size
        }
        return (mean, m2 / n)
    }

    private static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var acc = Vector()
        var i = 0
        while i + 16 <= count {
            acc += UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self)
            i += 16
        }
        var tail: Float = 0
        while i < count { tail += x[i]; i += 1 }
        return Double(acc.sum()) + Double(tail)
    }

    /// Σ (x − mean)², with the deviations from the rounded block mean (the difference from the exact
    /// block mean changes the sum by count · δ², far below float rounding).
    private static func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, count: Int, from mean: Float) -> Double {
        let m = Vector(repeating: mean)
        var acc = Vector()
        var i = 0
        while i + 16 <= count {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self) - m
            acc += d * d
            i += 16
        }
        var tail: Float = 0
        while i < count { let d = x[i] - mean; tail += d * d; i += 1 }
        return Double(acc.sum()) + Double(tail)
    }

    @inline(__always)
    private static func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                               scale: Float, shift: Float, swish: Bool) {
        if swish {
            for i in 0..<count { y[i] = Swish.apply(x[i] * scale + shift) }
        } else {
            for i in 0..<count { y[i] = x[i] * scale + shift }
        }
    }
}
