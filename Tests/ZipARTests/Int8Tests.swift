import Foundation
import XCTest
@testable import ZipAR

/// int8 weights: symmetric per-row quantisation and the int8 kernel against float references.
final class Int8Tests: XCTestCase {
    private func randomMatrix(_ rows: Int, _ cols: Int, seed: UInt64) -> [Float] {
        var rng = RandomSource(seed: seed)
        return (0..<rows * cols).map { i in i / cols == 3 ? 0 : rng.nextGaussian() * Float(1 + i / cols % 5) }  // row 3 all zero
    }

    /// Every value is within half a step of its row's scale, the largest magnitude maps to ±127, and a zero
    /// row stays zero.
    func testQuantisationPerRow() {
        let (rows, cols) = (37, 300)
        let values = randomMatrix(rows, cols, seed: 1)
        let w = WeightMatrix(rows: rows, cols: cols, values, precision: .int8)
        guard case .int8(let q, let scales) = w.storage else { return XCTFail("not int8") }
        XCTAssertEqual(scales.count, 48)
        XCTAssertEqual(w.byteCount, 48 * 300 + 48 * 4)
        let restored = w.floats
        for r in 0..<rows {
            let row = values[r * cols..<(r + 1) * cols], largest = row.map(abs).max()!
            XCTAssertEqual(scales[r], largest / 127, "row \(r)")
            for i in 0..<cols { XCTAssertLessThanOrEqual(abs(restored[r * cols + i] - values[r * cols + i]), scales[r] / 2 * 1.0001, "(\(r), \(i))") }
        }
        XCTAssertTrue(restored[3 * cols..<4 * cols].allSatisfy { $0 == 0 })
        XCTAssertEqual(q.map { Int($0) }.max(), 127)
        XCTAssertGreaterThanOrEqual(q.map { Int($0) }.min()!, -127)
    }

    /// The kernel equals a double-precision product with the dequantised weights (to float rounding), and
    /// stays within the quantisation bound Σ|x|·scale/2 of the float32 weights; accumulate adds.
    func testKernelMatchesFloatReference() {
        var rng = RandomSource(seed: 2)
        for (rows, cols, m) in [(37, 700, 1), (16, 257, 2), (5, 1024, 3), (40, 96, 7), (33, 3, 4)] {
            let values = randomMatrix(rows, cols, seed: UInt64(rows * cols))
            let w = WeightMatrix(rows: rows, cols: cols, values, precision: .int8)
            let dequantised = w.floats
            guard case .int8(_, let scales) = w.storage else { return XCTFail("not int8") }
            let x = (0..<m * cols).map { _ in rng.nextGaussian() }
            var y = [Float](repeating: 0, count: m * rows)
            w.apply(x, m: m, to: &y)
            var z = [Float](repeating: 1, count: m * rows)
            w.apply(x, m: m, to: &z, accumulate: true)
            for r in 0..<m {
                for j in 0..<rows {
                    var exact = 0.0, magnitude = 0.0, xSum = 0.0, original = 0.0
                    for i in 0..<cols {
                        let xv = Double(x[r * cols + i])
                        exact += xv * Double(dequantised[j * cols + i])
                        original += xv * Double(values[j * cols + i])
                        magnitude += abs(xv * Double(dequantised[j * cols + i]))
                        xSum += abs(xv)
                    }
                    let got = Double(y[r * rows + j])
                    XCTAssertEqual(got, exact, accuracy: 1e-5 * magnitude + 1e-6, "\(rows)×\(cols) m=\(m) (\(r), \(j))")
                    XCTAssertEqual(got, original, accuracy: xSum * Double(scales[j]) / 2 + 1e-5 * magnitude + 1e-6)
                    XCTAssertEqual(Double(z[r * rows + j]), got + 1, accuracy: 1e-5 * magnitude + 1e-5)
                }
            }
        }
    }

    /// int8 matrices keep a bfloat16 KV cache and bfloat16 embeddings; the layer matrices and head are int8.
    func testModelPrecisions() {
        var c = GPTConfig()
        (c.dim, c.n_layer, c.n_head, c.vocab_size, c.num_classes, c.block_size) = (64, 2, 4, 64, 10, 16)
        let model = GPT(config: c, weights: GPTWeights(randomFor: c, seed: 1, precision: .int8))
        XCTAssertEqual(model.precision, .int8)
        XCTAssertEqual(model.weights.layers[0].w13.precision, .int8)
        XCTAssertEqual(model.weights.tokenEmbedding.precision, .bfloat16)
        XCTAssertEqual(model.weights.classEmbedding.precision, .bfloat16)
        XCTAssertEqual(model.makeCache(batch: 2).precision, .bfloat16)
    }
}
