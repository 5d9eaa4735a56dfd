import CKernels
import XCTest
@testable import ZipAR

final class KernelTests: XCTestCase {
    /// The weight-streaming product equals a plain double-precision loop for odd shapes (rows not a multiple
    /// of the panel, k not a multiple of 8 and longer than a chunk, 1…13 activation rows in one to three
    /// groups, row strides, accumulate).
    /// Tolerance: 1e-5 relative to Σ|x·w| for float32; for bfloat16 the reference uses the rounded weights.
    func testLinearMatchesReference() {
        var rng = RandomSource(seed: 3)
        for (n, k) in [(1, 1), (17, 9), (33, 100), (64, 768), (5, 2049)] {
            let w = (0..<n * k).map { _ in rng.nextGaussian() }
            for precision in WeightPrecision.allCases {
                let matrix = WeightMatrix(rows: n, cols: k, w, precision: precision)
                let wr = matrix.floats
                XCTAssertEqual(wr.count, w.count)
                for m in [1, 2, 5, 6, 7, 8, 12, 13] {
                    let ldx = k + 3, ldy = n + 2
                    let x = (0..<m * ldx).map { _ in rng.nextGaussian() }
                    let start = (0..<m * ldy).map { _ in rng.nextGaussian() }
                    for accumulate in [false, true] {
                        var y = start
                        x.withUnsafeBufferPointer { xp in
                            y.withUnsafeMutableBufferPointer { matrix.apply(xp.baseAddress!, m: m, ldx: ldx, to: $0.baseAddress!, ldy: ldy, accumulate: accumulate) }
                        }
                        for r in 0..<m {
                            for j in 0..<n {
                                var ref = accumulate ? Double(start[r * ldy + j]) : 0, mag = 0.0
                                for i in 0..<k { let t = Double(x[r * ldx + i]) * Double(wr[j * k + i]); ref += t; mag += abs(t) }
                                XCTAssertEqual(Double(y[r * ldy + j]), ref, accuracy: 1e-5 * max(mag, 1), "n \(n) k \(k) m \(m) \(precision)")
                            }
                            // padding between rows is untouched
                            for j in n..<ldy { XCTAssertEqual(y[r * ldy + j], start[r * ldy + j]) }
                        }
                    }
                }
            }
        }
    }

    /// bfloat16 rounding is to nearest even and keeps the float32 value's top bits.
    func testBFloat16Rounding() {
        XCTAssertEqual(bfloat16Bits(1.0), 0x3f80)
        XCTAssertEqual(bfloat16Bits(Float(bitPattern: 0x3f80_8000)), 0x3f80)  // tie → even
        XCTAssertEqual(bfloat16Bits(Float(bitPattern: 0x3f81_8000)), 0x3f82)  // tie → even (up)
        XCTAssertEqual(bfloat16Bits(Float(bitPattern: 0x3f80_8001)), 0x3f81)
        XCTAssertTrue(bfloat16Value(bfloat16Bits(.nan)).isNaN)
    }

    /// With bfloat16 weights and KV cache (what `--weights-dtype bfloat16` runs) the teacher-forced logits of
    /// the conformance models stay close to float32: max |Δ| ≤ 2e-2 · max |logit| (bfloat16 keeps 8
    /// significant bits per value).
    func testBFloat16LogitsStayClose() throws {
        for c in try ConformanceCase.all() {
            let dir = c.directory.appendingPathComponent("gpt").path
            let f32 = try ModelFiles.loadGPT(directory: dir), bf16 = try ModelFiles.loadGPT(directory: dir, precision: .bfloat16)
            let tokens = try c.expected.entry("teacher_tokens").floats().map { Int($0) }
            let inputs = [ModelInput(.condition(0), position: 0)] + tokens.enumerated().map { ModelInput(.token($1), position: 1 + $0) }
            func logits(_ model: GPT) -> [Float] {
                let cache = model.makeCache(batch: 1)
                return Array(model.forward(inputs, conditions: [[c.info.class_label]], cache: cache,
                                           visibility: .staticCausal, logitsFor: Array(inputs.indices)))
            }
            let a = logits(f32), b = logits(bf16)
            let scale = a.map(abs).max()!, worst = zip(a, b).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 2e-2 * scale, c.name)
            XCTAssertGreaterThan(worst, 0, "bfloat16 should not be bit-identical to float32")
        }
    }

    /// Attention over a bfloat16 cache equals attention over a float32 cache holding the same rounded
    /// keys and values (the vector path for head_dim 8, 48 and 64, the portable one for 12; every slot
    /// visible, or only some written): max |Δ| ≤ 1e-6 · max |v| (same arithmetic, same order).
    func testBFloat16CacheAttentionMatchesRoundedFloat32() {
        var rng = RandomSource(seed: 11)
        for hd in [8, 12, 48, 64] {
            for last in [0, 5, 37] {
                let n = (last + 1) * hd
                let q = (0..<hd).map { _ in rng.nextGaussian() }
                let k16 = (0..<n).map { _ in bfloat16Bits(rng.nextGaussian()) }, v16 = (0..<n).map { _ in bfloat16Bits(rng.nextGaussian()) }
                let k32 = k16.map(bfloat16Value), v32 = v16.map(bfloat16Value)
                for written in [nil, (0...last).map { $0 % 3 != 1 }] {
                    var scores = [Float](repeating: 0, count: last + 1)
                    var want = [Float](repeating: 0, count: hd), got = want
                    let flags = written ?? []
                    flags.withUnsafeBufferPointer { w in
                        let wp = written == nil ? nil : w.baseAddress
                        zipar_attend_one(q, k32, v32, Int64(last), wp, Int64(hd), 0.3, &scores, &want)
                        zipar_attend_one_bf16(q, k16, v16, Int64(last), wp, Int64(hd), 0.3, &scores, &got)
                    }
                    let worst = zip(want, got).map { abs($0 - $1) }.max()!
                    XCTAssertLessThanOrEqual(worst, 1e-6 * v32.map(abs).max()!, "head_dim \(hd) last \(last)")
                    XCTAssertFalse(got.contains { !$0.isFinite })
                }
            }
        }
    }
}
