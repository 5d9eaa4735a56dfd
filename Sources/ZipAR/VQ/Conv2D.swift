/// Stride-1 convolutions over channel-first [C, H, W] activations: 1×1 as one sgemm; 3×3 (zero padding 1)
/// by Winograd F(4×4, 3×3) where the layer has transformed filters and the image is large enough, else
/// (and always as the reference when the workspace disallows Winograd) as im2col over tiles of image rows
/// followed by sgemm. A GroupNorm + swish before the convolution, or a nearest-neighbour ×2 upsampling,
/// is folded into the Winograd input transform; the direct path writes its input out first.
enum Conv2D {
    /// Floats in an im2col tile when a whole image's columns would be larger (16 MiB).
    static let columnBudget = 1 << 22

    /// output[cout, H·W] = conv(input[cin, H, W]) + bias, or output += that when `accumulate`.
    static func apply(_ w: ConvWeights, input: UnsafePointer<Float>, height: Int, width: Int,
                      output: UnsafeMutablePointer<Float>, accumulate: Bool = false, workspace ws: VQWorkspace) {
        if let filters = winogradFilters(w, height: height, width: width, workspace: ws) {
            Winograd.apply(filters: filters, bias: w.bias, cin: w.cin, cout: w.cout, input: input, height: height,
                           width: width, output: output, accumulate: accumulate, scratch: ws.winograd)
        } else {
            direct(w, input: input, height: height, width: width, output: output, accumulate: accumulate, columns: ws.columns)
        }
    }

    /// output[cout, H·W] (+)= conv(swish(norm(input))) + bias: the GroupNorm's statistics are taken here, and
    /// its scale, shift and swish applied as the Winograd path reads `input`; the direct path writes them to
    /// `spare` (cin · H · W floats; may be `input`, which is then overwritten) first.
    static func applyNormalized(_ w: ConvWeights, norm: NormWeights, input: UnsafeMutablePointer<Float>, height: Int,
                                width: Int, output: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                                spare: UnsafeMutablePointer<Float>, workspace ws: VQWorkspace) {
        let plane = height * width
        let (scale, shift) = (ws.normScale.pointer, ws.normShift.pointer)
        if let filters = winogradFilters(w, height: height, width: width, workspace: ws) {
            GroupNorm.affine(norm, input: input, channels: w.cin, plane: plane, scale: scale, shift: shift)
            Winograd.apply(filters: filters, bias: w.bias, cin: w.cin, cout: w.cout, input: input, height: height,
                           width: width, normalize: (UnsafePointer(scale), UnsafePointer(shift)), output: output,
                           accumulate: accumulate, scratch: ws.winograd)
        } else {
            GroupNorm.apply(norm, input: input, channels: w.cin, plane: plane, output: spare, swish: true,
                            scale: scale, shift: shift)
            direct(w, input: spare, height: height, width: width, output: output, accumulate: accumulate, columns: ws.columns)
        }
    }

    /// output[cout, H·W] = conv(upsample(input)) + bias for input [cin, H/2, W/2] and its nearest ×2
    /// upsampling: read in place by the Winograd path, else written to `spare` (cin · H · W floats) first.
    static func applyUpsampled(_ w: ConvWeights, input: UnsafePointer<Float>, height: Int, width: Int,
                               output: UnsafeMutablePointer<Float>, spare: UnsafeMutablePointer<Float>,
                               workspace ws: VQWorkspace) {
        if let filters = winogradFilters(w, height: height, width: width, workspace: ws) {
            Winograd.apply(filters: filters, bias: w.bias, cin: w.cin, cout: w.cout, input: input, height: height,
                           width: width, upsampled: true, output: output, accumulate: false, scratch: ws.winograd)
        } else {
            upsampleNearest2x(input, channels: w.cin, height: height / 2, width: width / 2, into: spare)
            direct(w, input: spare, height: height, width: width, output: output, columns: ws.columns)
        }
    }

    /// The transformed filters when the Winograd path applies to `w` on an image this size.
    private static func winogradFilters(_ w: ConvWeights, height: Int, width: Int, workspace ws: VQWorkspace) -> [Float]? {
        guard ws.allowsWinograd, height * width >= Winograd.minPixels else { return nil }
        return w.winograd
    }

    /// The direct path: one sgemm for 1×1, im2col tiles + sgemm for 3×3. `columns` must hold at least
    /// cin · 9 · width floats for a 3×3 kernel.
    static func direct(_ w: ConvWeights, input: UnsafePointer<Float>, height: Int, width: Int,
                       output: UnsafeMutablePointer<Float>, accumulate: Bool = false, columns: FloatScratch) {
        let plane = height * width
        for co in 0..<w.cout {
            let row = output + co * plane
            let bias = w.bias[co]
            if accumulate {
                for i in 0..<plane { row[i] += bias }
            } else {
                row.update(repeating: bias, count: plane)
            }
        }
        w.weight.withUnsafeBufferPointer { weight in
            guard let a = weight.baseAddress else { return }
            if w.kernel == 1 {
                sgemm(m: w.cout, n: plane, k: w.cin, a: a, b: input, c: output, beta: 1)
                return
            }
            let depth = w.cin * 9
            let rowsPerTile = max(1, min(height, columns.count / (depth * width)))
            var r0 = 0
            while r0 < height {
                let r1 = min(height, r0 + rowsPerTile)
                let n = (r1 - r0) * width
                im2col3x3(input, channels: w.cin, height: height, width: width, rows: r0..<r1, into: columns.pointer)
                sgemm(m: w.cout, n: n, k: depth, a: a, b: columns.pointer, c: output + r0 * width, ldc: plane, beta: 1)
                r0 = r1
            }
        }
    }

    /// Writes the [cin · 9, rows · width] column matrix of a 3×3, padding-1 convolution for output rows
    /// `rows`: entry (ci·9 + ky·3 + kx, (y − rows.lowerBound)·width + x) = input[ci, y + ky − 1, x + kx − 1],
    /// zero outside the image. Channels are split over the cores.
    static func im2col3x3(_ input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                          rows: Range<Int>, into columns: UnsafeMutablePointer<Float>) {
        parallelFor(channels) { ci in
            im2col3x3(channel: ci, input, height: height, width: width, rows: rows, into: columns)
        }
    }

    private static func im2col3x3(channel ci: Int, _ input: UnsafePointer<Float>, height: Int, width: Int,
                                  rows: Range<Int>, into columns: UnsafeMutablePointer<Float>) {
        let n = rows.count * width
        let source = input + ci * height * width
        for ky in 0..<3 {
            for kx in 0..<3 {
                let dst = columns + (ci * 9 + ky * 3 + kx) * n
                for y in rows {
                    let d = dst + (y - rows.lowerBound) * width
                    let sy = y + ky - 1
                    guard sy >= 0, sy < height else {
                        d.update(repeating: 0, count: width)
                        continue
                    }
                    let s = source + sy * width
                    switch kx {
                    case 0:
                        d[0] = 0
                        (d + 1).update(from: s, count: width - 1)
                    case 1:
                        d.update(from: s, count: width)
                    default:
                        d.update(from: s + 1, count: width - 1)
                        d[width - 1] = 0
                    }
                }
            }
        }
    }

    /// output[c, 2y + i, 2x + j] = input[c, y, x] for i, j ∈ {0, 1} (torch's interpolate, mode "nearest").
    static func upsampleNearest2x(_ input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                                  into output: UnsafeMutablePointer<Float>) {
        let outWidth = 2 * width
        for c in 0..<channels {
            for y in 0..<height {
                let s = input + (c * height + y) * width
                let d = output + (c * 2 * height + 2 * y) * outWidth
                for x in 0..<width {
                    d[2 * x] = s[x]
                    d[2 * x + 1] = s[x]
                }
                (d + outWidth).update(from: d, count: outWidth)
            }
        }
    }
}
