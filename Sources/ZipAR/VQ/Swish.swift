/// swish(x) = x · sigmoid(x) = x / (1 + e^−x), with a Cephes-style single-precision exp (relative error
/// about 2 ulp). Written as branch-free scalar code without calls or trapping conversions so that loops
/// over it are auto-vectorised.
enum Swish {
    /// e^x; inputs are clamped to ±88.376 so the result stays finite and non-zero.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let x = Swift.min(Swift.max(x, -88.3762626647949), 88.3762626647949)
        // n = round(x / ln2): adding 1.5·2²³ rounds to an integer held in the low mantissa bits.
        let magic: Float = 12_582_912
        let shifted = x * 1.44269504088896341 + magic
        let n = shifted - magic
        let ni = Int32(bitPattern: shifted.bitPattern) &- Int32(bitPattern: magic.bitPattern)
        // r = x − n·ln2 in two steps (ln2 = 0.693359375 − 2.12194440e-4) for precision.
        var r = x - n * 0.693359375
        r = r + n * 2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        // 2ⁿ as two normal factors (n ∈ [−128, 128] after the clamp).
        let half = ni &>> 1
        let scale1 = Float(bitPattern: UInt32(bitPattern: (half &+ 127) &<< 23))
        let scale2 = Float(bitPattern: UInt32(bitPattern: (ni &- half &+ 127) &<< 23))
        return p * scale1 * scale2
    }

    /// x · sigmoid(x).
    @inline(__always)
    static func apply(_ x: Float) -> Float {
        x / (1 + exp(-x))
    }
}
