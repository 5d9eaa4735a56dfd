import Foundation

// Small free functions over preallocated buffers: the element-wise pieces of a transformer layer.

/// out[i] = x[i] / sqrt(mean(x²) + eps) · weight[i], for each of `rows` rows of width `n` (RMSNorm, in float).
@inline(__always)
public func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                    rows: Int, n: Int, eps: Float) {
    for r in 0..<rows {
        let xr = x + r * n, o = out + r * n
        var ss: Float = 0
        for i in 0..<n { ss += xr[i] * xr[i] }
        let scale = 1 / (ss / Float(n) + eps).squareRoot()
        for i in 0..<n { o[i] = (xr[i] * scale) * weight[i] }
    }
}

/// gate[i] = silu(gate[i]) · up[i] over `count` values (SwiGLU's product).
@inline(__always)
public func siluMultiply(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        let g = gate[i]
        gate[i] = g / (1 + expf(-g)) * up[i]
    }
}

/// Dot product of two length-`n` vectors.
@inline(__always)
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
    var i = 0
    while i + 4 <= n {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3]
        i += 4
    }
    while i < n { s0 += a[i] * b[i]; i += 1 }
    return (s0 + s1) + (s2 + s3)
}

/// y += alpha · x over `n` values.
@inline(__always)
public func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] += alpha * x[i] }
}
