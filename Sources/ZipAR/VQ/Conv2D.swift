import Foundation

/// Stride-1 convolutions over channel-first [C, H, W] activations: 1×1 as one sgemm, 3×3 (zero padding 1)
/// as im2col over tiles of image rows followed by sgemm, plus nearest-neighbour ×2 upsampling.
enum Conv2D {
    /// Floats in an im2col tile when a whole image's columns would be larger (16 MiB).
    static let columnBudget = 1 << 22

    /// output[cout, H·W] = conv(input[cin, H, W]) + bias, or output += that when `accumulate`.
    /// `columns` must hold at least cin · 9 · width floats for a 3×3 kernel.
    static func apply(_ w: ConvWeights, input: UnsafePointer<Float>, height: Int, width: Int,
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
        let chunks = min(channels, 8)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for ci in channels * chunk / chunks..<channels * (chunk + 1) / chunks {
                im2col3x3(channel: ci, input, height: height, width: width, rows: rows, into: columns)
            }
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
