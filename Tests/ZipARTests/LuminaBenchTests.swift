import XCTest
@testable import ZipAR

/// `zipar bench --model lumina-mgpt-7b`: the preset's shapes and defaults, and a tiny Lumina-shaped plan
/// through the whole benchmark (pass counts of the line-end layout, the KV cache with end-of-line slots).
final class LuminaBenchTests: XCTestCase {
    func testLuminaPresetHasTheRealShapes() throws {
        let plan = try XCTUnwrap(BenchmarkPlan.text("lumina-mgpt-7b"))
        guard case .lumina(let l) = plan.model else { return XCTFail("not a Lumina plan") }
        let s = l.config.text.shape
        XCTAssertEqual([s.dim, s.layers, s.heads, s.kvHeads, s.headDim, s.ffnHidden], [4096, 32, 32, 32, 128, 11008])
        XCTAssertEqual(l.config.text.vocab_size, 65536)
        XCTAssertEqual(s.normEps, 1e-5)
        XCTAssertEqual([plan.imageSize, plan.gridSide], [768, 48])
        XCTAssertEqual(plan.schedules, [.raster, .ziparReference(window: 16)])
        XCTAssertEqual(plan.precision, .bfloat16)
        XCTAssertEqual(plan.cfgScale, 3)
        XCTAssertEqual(plan.sampling.topK, 2000)
        XCTAssertEqual([l.promptTokens.count, l.promptTokens.first!, l.promptTokens.last!], [40, 0, 8710])
        XCTAssertNil(plan.decoder)
        XCTAssertNotNil(BenchmarkPlan.text("janus-pro-1b"))
        XCTAssertNil(BenchmarkPlan.text("lumina-mgpt-34b"))
    }

    func testTinyLuminaBenchmark() throws {
        let l = LuminaBenchModel(dim: 64, layers: 2, heads: 2, ffn: 128, vocab: 9344, maxPositions: 512, imageSize: 128, promptLength: 8)
        var plan = BenchmarkPlan(modelName: "lumina-tiny", lumina: l)
        plan.schedules = [.raster, .ziparReference(window: 4)]
        plan.warmup = 0
        plan.repeats = 1
        plan.useSmallProbes()
        let report = try Benchmark.run(plan)
        let (h, w) = (8, 8)
        XCTAssertEqual(report.model.family, "lumina")
        XCTAssertEqual(report.model.conditionTokens, 8 + 3)
        XCTAssertEqual(report.schedules.map(\.passes), [3 + h * w + h - 1, 3 + w + (h - 1) * 3])
        // KV: 2 rows × 2 layers × K,V × 2 heads × (11 + 8·9) slots × 32 dims × 2 bytes (bfloat16)
        XCTAssertEqual(report.model.kvCacheBytes, 2 * 2 * 2 * 2 * (11 + h * (w + 1)) * 32 * 2)
        XCTAssertGreaterThan(report.schedules[1].rowsPerPass, report.schedules[0].rowsPerPass)
        XCTAssertNil(report.vqDecode)
    }
}

extension LuminaBenchTests {
    /// --timed-passes: the first N passes are timed and the whole image's passes come from the schedule's
    /// plan (the same count a whole image takes); zipar-adaptive is refused.
    func testExtrapolatedBenchmark() throws {
        let l = LuminaBenchModel(dim: 64, layers: 2, heads: 2, ffn: 128, vocab: 9344, maxPositions: 512, imageSize: 128, promptLength: 8)
        var plan = BenchmarkPlan(modelName: "lumina-tiny", lumina: l)
        plan.schedules = [.raster, .ziparReference(window: 4), .zipar(window: 2, rowStart: .placeholder)]
        plan.warmup = 0
        plan.repeats = 1
        plan.timedPasses = 5
        plan.useSmallProbes()
        let report = try Benchmark.run(plan)
        XCTAssertEqual(report.schedules.map(\.passes), [3 + 64 + 7, 3 + 8 + 7 * 3, 3 + 8 + 7 * 2])
        XCTAssertEqual(report.settings.timedPasses, 5)
        XCTAssertTrue(report.table().contains("extrapolated: each image ran its first 5 schedule passes"))
        plan.schedules = [.ziparAdaptive(minWindow: 2, rowStart: .placeholder)]
        XCTAssertThrowsError(try Benchmark.run(plan))
    }
}
