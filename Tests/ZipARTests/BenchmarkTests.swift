import XCTest
@testable import ZipAR

final class BenchmarkTests: XCTestCase {
    /// A batch of 3 shares its passes: the same pass counts as one image, three images' tokens and rows
    /// per pass, images/s the inverse of seconds per image.
    func testBatchReport() throws {
        var plan = BenchmarkPlan.smoke
        (plan.warmup, plan.repeats, plan.decoder, plan.batch) = (0, 1, nil, 3)
        let report = try Benchmark.run(plan)
        let (h, w) = (report.model.gridHeight, report.model.gridWidth)
        XCTAssertEqual(report.settings.batch, 3)
        XCTAssertEqual(report.schedules.map(\.passes), [h * w, 2 * w + (h - 2) * 8, 2 * w + (h - 2) * 4])
        for s in report.schedules {
            XCTAssertEqual(s.tokensPerPass * Double(s.passes), Double(3 * h * w), accuracy: 1e-9, s.name)
            XCTAssertEqual(s.imagesPerSecond * s.secondsMedian, 1, accuracy: 1e-9, s.name)
        }
        XCTAssertEqual(report.schedules[0].rowsPerPass, 3 * 2, accuracy: 1e-9)
        XCTAssertTrue(report.table().contains("batches of 3"))
    }

    /// The smoke plan runs end to end: positive timings and rates, passes as the schedule formulas say,
    /// zipar-adaptive's drafts in the table.
    func testSmokeReportIsSane() throws {
        var plan = BenchmarkPlan.smoke
        plan.schedules += [.zipar(window: 4, rowStart: .neighbour), .ziparAdaptive(minWindow: 4, rowStart: .neighbour)]
        plan.warmup = 0
        plan.repeats = 1
        let report = try Benchmark.run(plan)
        let (h, w) = (report.model.gridHeight, report.model.gridWidth)
        XCTAssertEqual(report.schedules.map(\.name), ["raster", "zipar-reference:8", "zipar-reference:4", "zipar:4", "zipar-adaptive:4"])
        XCTAssertEqual(report.schedules.prefix(4).map(\.passes), [h * w, 2 * w + (h - 2) * 8, 2 * w + (h - 2) * 4, w + (h - 1) * 4])
        let adaptive = report.schedules[4]
        XCTAssertTrue((w + (h - 1) * 4...h * w).contains(adaptive.passes), "\(adaptive.passes)")
        XCTAssertGreaterThan(adaptive.drafts, 0)
        XCTAssertEqual(adaptive.accepted + adaptive.rejected, adaptive.drafts)
        XCTAssertTrue(report.table().contains("drafts (accepted/rejected)"))
        XCTAssertTrue(report.table().contains("\(adaptive.drafts) (\(adaptive.accepted)/\(adaptive.rejected))"))
        for s in report.schedules {
            XCTAssertGreaterThan(s.secondsMedian, 0, s.name)
            XCTAssertGreaterThan(s.achievedGigabytesPerSecond, 0, s.name)
            XCTAssertEqual(s.tokensPerPass * Double(s.passes), Double(h * w), accuracy: 1e-9, s.name)
        }
        XCTAssertEqual(report.schedules[0].ratioToRaster, 1)
        XCTAssertGreaterThan(report.bandwidth.bestGigabytesPerSecond, 0)
        XCTAssertGreaterThan(report.matmul.bestGflops, 0)
        XCTAssertGreaterThan(report.floorMsPerPass, 0)
        XCTAssertGreaterThan(report.peakResidentMebibytes, 0)
        let vq = try XCTUnwrap(report.vqDecode)
        XCTAssertGreaterThan(vq.secondsMedian, 0)
        XCTAssertGreaterThan(vq.flops.total, 0)
        XCTAssertNoThrow(try report.json())
    }

    /// A tiny Janus-shaped plan (prompt tokens, CFG pair, gen head over 512 codes, 12×12 grid): the
    /// schedules and their pass counts, both floors and which binds, and the memory budget.
    func testJanusSmokeReportIsSane() throws {
        var plan = BenchmarkPlan.janusSmoke
        plan.warmup = 0
        plan.repeats = 1
        XCTAssertEqual(plan.precision, .bfloat16)
        XCTAssertEqual(plan.cfgScale, 5)
        XCTAssertEqual(plan.sampling.topK, 0)
        let report = try Benchmark.run(plan)
        let (h, w) = (report.model.gridHeight, report.model.gridWidth)
        XCTAssertEqual(report.model.family, "janus")
        XCTAssertEqual(report.model.conditionTokens, 9)
        XCTAssertEqual(report.settings.condition, "prompt of 9 tokens")
        XCTAssertEqual(report.schedules.map(\.name), ["raster", "zipar-reference:8"])
        XCTAssertEqual(report.schedules.map(\.passes), [h * w, 2 * w + (h - 2) * 8])
        // streamed: 2 layers of (qkv 3·64·64 + wo 64·64 + w13 2·160·64 + w2 64·160), head 64·96 + 96·512, aligner 8·64 + 64·64
        let layer = 3 * 64 * 64 + 64 * 64 + 2 * 160 * 64 + 64 * 160
        XCTAssertEqual(report.model.streamedParameters, 2 * layer + 64 * 96 + 96 * 512 + 8 * 64 + 64 * 64)
        // KV: 2 rows × 2 layers × K,V × 2 heads × (9 + 144) slots × 32 dims × 2 bytes
        XCTAssertEqual(report.model.kvCacheBytes, 2 * 2 * 2 * 2 * (9 + h * w) * 32 * 2)
        XCTAssertGreaterThan(report.model.residentWeightBytes, report.model.bytesReadPerPass)
        XCTAssertGreaterThanOrEqual(report.model.loadSeconds, 0)
        for s in report.schedules {
            XCTAssertGreaterThan(s.secondsMedian, 0, s.name)
            XCTAssertGreaterThan(s.flopFloorMsPerPass, 0, s.name)
            XCTAssertEqual(s.rowsPerPass, s.inputsPerPass * 2, accuracy: 1e-12, s.name)
            let floor = max(report.floorMsPerPass, s.flopFloorMsPerPass)
            XCTAssertEqual(s.ratioToFloor, s.msPerPass / floor, accuracy: 1e-9, s.name)
            XCTAssertEqual(s.ratioToBandwidthFloor, s.msPerPass / report.floorMsPerPass, accuracy: 1e-9, s.name)
            XCTAssertEqual(s.floorBinds, s.flopFloorMsPerPass > report.floorMsPerPass ? "flops" : "bandwidth", s.name)
            XCTAssertGreaterThanOrEqual(s.ratioToFloor, 1, "a pass cannot beat its floor: \(s.name)")
        }
        XCTAssertGreaterThan(report.schedules[1].rowsPerPass, report.schedules[0].rowsPerPass)
        XCTAssertGreaterThan(report.peakResidentGenerationMebibytes, 0)
        XCTAssertGreaterThanOrEqual(report.peakResidentMebibytes, report.peakResidentGenerationMebibytes)
        XCTAssertGreaterThan(report.peakResidentToNeeded, 0)
        XCTAssertNotNil(report.vqDecode)
        let table = report.table()
        for text in ["janus-smoke", "prompt of 9 tokens", "FLOP floor", "binds", "peak RSS / needed"] {
            XCTAssertTrue(table.contains(text), text)
        }
        XCTAssertNoThrow(try report.json())
    }

    /// The Janus-Pro presets carry the real shapes and Janus's generation defaults.
    func testJanusPresetsHaveTheRealShapes() throws {
        let one = try XCTUnwrap(BenchmarkPlan.janus("janus-pro-1b")), seven = try XCTUnwrap(BenchmarkPlan.janus("janus-pro-7b"))
        XCTAssertNil(BenchmarkPlan.janus("janus-pro-3b"))
        for (plan, dim, layers, heads, ffn) in [(one, 2048, 24, 16, 5632), (seven, 4096, 30, 32, 11008)] {
            guard case .janus(let j) = plan.model else { return XCTFail("not a Janus plan") }
            let s = j.config.text.shape
            XCTAssertEqual([s.dim, s.layers, s.heads, s.kvHeads, s.headDim, s.ffnHidden], [dim, layers, heads, heads, 128, ffn])
            XCTAssertEqual(j.config.text.vocab_size, 102400)
            XCTAssertEqual(j.config.text.max_position_embeddings, 16384)
            XCTAssertEqual(j.config.text.rope_theta, 10000)
            XCTAssertEqual(s.normEps, 1e-6)
            XCTAssertEqual([j.codes, j.embedDim, j.headWidth, j.config.gridSide, j.config.alignerDepth], [16384, 8, dim, 24, 2])
            XCTAssertEqual(j.promptTokens.count, 17)
            XCTAssertEqual(j.promptTokens.first, 100000)
            XCTAssertEqual(j.promptTokens.last, 100016)
            XCTAssertEqual(plan.imageSize, 384)
            XCTAssertEqual(plan.precision, .bfloat16)
            XCTAssertEqual(plan.schedules, [.raster, .ziparReference(window: 8)])
            XCTAssertNil(plan.gpt)
        }
    }
}
