import Foundation

/// The layers of the Emu3 decoder over channel-first [C, H, W] float arrays (one frame), on the VQ
/// kernels: convolutions by im2col + sgemm, GroupNorm, swish, attention by sgemm.
struct Emu3VQOps {
    /// The quantized latent `zq` after the temporal stack, [embed_dim, height, width] at token resolution.
    struct Latent {
        let values: [Float]
        let height: Int, width: Int
    }

    let columns: FloatScratch

    init(maxColumns: Int) {
        columns = FloatScratch(count: max(maxColumns, 1))
    }

    /// conv(x) + bias (3×3 with zero padding 1, or 1×1).
    func conv(_ w: ConvWeights, _ x: [Float], _ h: Int, _ wd: Int) -> [Float] {
        var out = [Float](repeating: 0, count: w.cout * h * wd)
        x.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { o in
                Conv2D.direct(w, input: input.baseAddress!, height: h, width: wd, output: o.baseAddress!, columns: columns)
            }
        }
        return out
    }

    /// conv(nearest ×2 upsampling of x), x [C, h, wd].
    func upsampleConv(_ w: ConvWeights, _ x: [Float], _ h: Int, _ wd: Int) -> [Float] {
        var up = [Float](repeating: 0, count: x.count * 4)
        x.withUnsafeBufferPointer { input in
            up.withUnsafeMutableBufferPointer { Conv2D.upsampleNearest2x(input.baseAddress!, channels: w.cin, height: h, width: wd, into: $0.baseAddress!) }
        }
        return conv(w, up, 2 * h, 2 * wd)
    }

    func swish(_ x: [Float]) -> [Float] { x.map { Swish.apply($0) } }

    /// The temporal residual block at frame 0.
    func temporalBlock(_ b: Emu3TemporalBlockWeights, _ x: [Float], _ h: Int, _ wd: Int) -> [Float] {
        func normSwish(_ n: Emu3BatchNormWeights, _ v: [Float]) -> [Float] {
            let plane = h * wd
            return v.enumerated().map { i, value in Swish.apply(value * n.scale[i / plane] + n.shift[i / plane]) }
        }
        let y = conv(b.conv2, normSwish(b.norm2, conv(b.conv1, normSwish(b.norm1, x), h, wd)), h, wd)
        return zip(x, y).map { $0 + $1 }
    }

    /// SpatialNorm: GroupNorm(x) · conv_y(zq↑) + conv_b(zq↑); the 1×1 convolutions run at token
    /// resolution and are then resized (nearest; they commute).
    func spatialNorm(_ n: Emu3SpatialNormWeights, _ x: [Float], _ h: Int, _ wd: Int, _ q: Latent) -> [Float] {
        let channels = n.norm.gamma.count, plane = h * wd
        var normed = [Float](repeating: 0, count: x.count)
        var scale = [Float](repeating: 0, count: channels), shift = scale
        x.withUnsafeBufferPointer { input in
            normed.withUnsafeMutableBufferPointer { out in
                scale.withUnsafeMutableBufferPointer { s in
                    shift.withUnsafeMutableBufferPointer { t in
                        GroupNorm.apply(n.norm, input: input.baseAddress!, channels: channels, plane: plane, output: out.baseAddress!,
                                        swish: false, scale: s.baseAddress!, shift: t.baseAddress!)
                    }
                }
            }
        }
        let y = conv(n.convY, q.values, q.height, q.width), b = conv(n.convB, q.values, q.height, q.width)
        let qPlane = q.height * q.width
        // torch's nearest resize to (h, wd): source row ⌊r · qh / h⌋, column ⌊c · qw / wd⌋
        let rows = (0..<h).map { $0 * q.height / h }, cols = (0..<wd).map { $0 * q.width / wd }
        for c in 0..<channels {
            for r in 0..<h {
                let base = c * qPlane + rows[r] * q.width
                for col in 0..<wd {
                    let i = c * plane + r * wd + col, s = base + cols[col]
                    normed[i] = normed[i] * y[s] + b[s]
                }
            }
        }
        return normed
    }

    func resBlock(_ b: Emu3ResBlockWeights, _ x: [Float], _ h: Int, _ wd: Int, _ q: Latent) -> [Float] {
        let first = conv(b.conv1, swish(spatialNorm(b.norm1, x, h, wd, q)), h, wd)
        let second = conv(b.conv2, swish(spatialNorm(b.norm2, first, h, wd, q)), h, wd)
        let residual = b.shortcut.map { conv($0, x, h, wd) } ?? x
        return zip(residual, second).map { $0 + $1 }
    }

    /// x + out_proj(attention(q, k, v of SpatialNorm(x))), heads of C / heads channels, scale head_dim^−½.
    func attention(_ a: Emu3AttentionWeights, _ x: [Float], _ h: Int, _ wd: Int, _ q: Latent) -> [Float] {
        let n = h * wd, c = a.channels, d = c / a.heads
        let qkv = conv(a.qkv, spatialNorm(a.norm, x, h, wd, q), h, wd)
        var mixed = [Float](repeating: 0, count: c * n), scores = [Float](repeating: 0, count: n * n)
        let scale = Float(1 / Double(d).squareRoot())
        qkv.withUnsafeBufferPointer { all in
            scores.withUnsafeMutableBufferPointer { s in
                mixed.withUnsafeMutableBufferPointer { m in
                    for head in 0..<a.heads {
                        let qh = all.baseAddress! + head * d * n, kh = qh + c * n, vh = kh + c * n
                        // scores[i, j] = Σ_d q[d, i] · k[d, j] · scale
                        sgemm(m: n, n: n, k: d, a: qh, transA: true, b: kh, c: s.baseAddress!, alpha: scale)
                        for i in 0..<n { softmaxRow(s.baseAddress! + i * n, count: n) }
                        // mixed[d, i] = Σ_j v[d, j] · scores[i, j]
                        sgemm(m: d, n: n, k: n, a: vh, b: s.baseAddress!, transB: true, c: m.baseAddress! + head * d * n)
                    }
                }
            }
        }
        return zip(x, conv(a.out, mixed, h, wd)).map { $0 + $1 }
    }
}
