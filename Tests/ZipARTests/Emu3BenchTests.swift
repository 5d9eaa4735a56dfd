import XCTest
@testable import ZipAR

/// `zipar bench --model emu3-gen`: the preset's shapes, ids and defaults, and a tiny Emu3-shaped plan
/// through the whole benchmark (line-end pass counts, the GQA KV cache, the two prompts, the decoder at a
/// smaller grid, passes skipped before the timed ones).
final class Emu3BenchTests: XCTestCase {
    func testEmu3PresetHasTheRealShapes() throws {
        let plan = try XCTUnwrap(BenchmarkPlan.text("emu3-gen"))
        guard case .emu3(let e) = plan.model else { return XCTFail("not an Emu3 plan") }
        let t = e.config.text, s = t.shape
        XCTAssertEqual([s.dim, s.layers, s.heads, s.kvHeads, s.headDim, s.ffnHidden], [4096, 32, 32, 8, 128, 14336])
        XCTAssertEqual([t.vocab_size, t.max_position_embeddings, e.codes], [184_622, 9216, 32768])
        XCTAssertEqual(t.rope_theta, 1e6)
        XCTAssertEqual([plan.imageSize, plan.gridSide], [720, 90])
        XCTAssertEqual(plan.schedules, [.raster, .zipar(window: 7, rowStart: .placeholder)])
        XCTAssertEqual(plan.precision, .bfloat16)
        XCTAssertEqual(plan.cfgScale, 3)
        XCTAssertEqual(plan.sampling.topK, 2048)
        guard case .emu3(let vq) = plan.decoder else { return XCTFail("not Emu3's decoder") }
        XCTAssertEqual(vq, Emu3VQConfig())
        // BAAI/Emu3-Gen's ids
        let v = try Emu3Vocabulary(map: e.config.vocabularyMap, path: "test")
        XCTAssertEqual([v.visualIDs.first!, v.visualIDs.last!, v.bos, v.imageStart, v.imageToken, v.endOfLine, v.endOfFrame, v.imageEnd, v.eos],
                       [151_854, 184_621, 151_849, 151_852, 151_851, 151_846, 151_847, 151_853, 151_850])
        XCTAssertEqual([e.promptTokens.count, e.promptTokens.first!, e.promptTokens.last!], [23, 151_849, 151_851])
        XCTAssertEqual([e.negativePromptTokens.count, e.negativePromptTokens[55 - 7]], [55, 151_852])
        XCTAssertTrue(e.promptTokens.dropFirst().dropLast().allSatisfy { $0 < 151_643 || $0 == 151_852 })
        // the paper's pass counts at 90×90, as the benchmark plans them
        let layout = SequenceLayout(conditionTokens: 55, height: 90, width: 90, lineEnd: true)
        XCTAssertEqual(plan.schedules.map { plannedPasses($0, layout: layout)!.forward_passes }, [8189, 713])
    }

    private func tinyPlan() -> BenchmarkPlan {
        let e = Emu3BenchModel(dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, vocab: 512, codes: 64, maxPositions: 512,
                               grid: 8, promptLength: 9, negativeLength: 14)
        var plan = BenchmarkPlan(modelName: "emu3-tiny", emu3: e)
        var vq = Emu3VQConfig()
        (vq.codebook_size, vq.base_channels, vq.channel_multiplier, vq.hidden_size, vq.attn_resolutions, vq.num_res_blocks) =
            (64, 32, [1, 2], 64, [1], 1)
        plan.decoder = .emu3(vq)
        plan.imageSize = 8 * vq.downsample
        plan.decodeGridSide = 4
        plan.schedules = [.raster, .zipar(window: 3, rowStart: .placeholder)]
        plan.warmup = 0
        plan.repeats = 1
        plan.useSmallProbes()
        return plan
    }

    func testTinyEmu3Benchmark() throws {
        let report = try Benchmark.run(tinyPlan())
        let (h, w) = (8, 8)
        XCTAssertEqual(report.model.family, "emu3")
        XCTAssertEqual([report.model.kvHeads, report.model.vocabSize, report.model.conditionTokens], [2, 64, 14])
        XCTAssertEqual(report.schedules.map(\.passes), [h * w + h - 1, w + (h - 1) * 3])
        // KV: 2 rows × 2 layers × K,V × 2 kv heads × (14 + 8·9) slots × 16 dims × 2 bytes (bfloat16)
        XCTAssertEqual(report.model.kvCacheBytes, 2 * 2 * 2 * 2 * (14 + h * (w + 1)) * 16 * 2)
        XCTAssertGreaterThan(report.schedules[1].rowsPerPass, report.schedules[0].rowsPerPass)
        XCTAssertNil(report.schedules[0].timedMsPerPass)
        let vq = try XCTUnwrap(report.vqDecode)
        XCTAssertEqual([vq.gridSize, vq.imageSize], [4, 8])
        let whole = try XCTUnwrap(vq.imageFlops)
        XCTAssertGreaterThan(whole.total, 4 * vq.flops.total)
        XCTAssertEqual(try XCTUnwrap(vq.extrapolatedImageSeconds), vq.secondsMedian * whole.total / vq.flops.total, accuracy: 1e-12)
        XCTAssertTrue(report.table().contains("extrapolated by FLOPs"))
    }

    /// --timed-passes with --timed-from: the first pass runs, the passes up to that fraction of each
    /// schedule's are planned only (their slots marked written), then the timed ones run where the schedule
    /// makes them (zipar's wavefront several rows wide); more timed passes than a schedule has are refused.
    func testTimedPassesFromTheMiddle() throws {
        var plan = tinyPlan()
        plan.decoder = nil
        plan.timedPasses = 5
        plan.timedFrom = 0.4
        let report = try Benchmark.run(plan)
        XCTAssertEqual(report.schedules.map(\.passes), [64 + 7, 8 + 7 * 3])
        XCTAssertEqual(report.settings.timedFrom, 0.4)
        // round(passes × 0.4) − 1 after the first
        XCTAssertEqual(report.schedules.map(\.skippedPasses), [27, 11])
        XCTAssertEqual(report.schedules[0].timedInputsPerPass, 1)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(report.schedules[1].timedInputsPerPass), 3)
        for s in report.schedules {
            XCTAssertGreaterThan(try XCTUnwrap(s.timedMsPerPass), 0, s.name)
        }
        XCTAssertTrue(report.table().contains("up to 40% of the schedule's were planned and not run"))
        XCTAssertTrue(report.table().contains("zipar:3: passes 13–16 timed"))
        plan.timedPasses = 30
        XCTAssertThrowsError(try Benchmark.run(plan))
    }

    /// The skipped passes' cells and line ends are handed over as slots to mark written: raster skipping
    /// the rest of row 0 and row 1's first cell marks their positions and row 0's line end.
    func testSkippedSlots() {
        let layout = SequenceLayout(conditionTokens: 5, height: 3, width: 4, lineEnd: true)
        let record = PassPrefixRecord()
        var schedule = PassPrefixSchedule(ScheduleSpec.raster.schedule(layout: layout), layout: layout, limit: 3, skip: 5, record: record)
        var grid = TokenGrid(height: 3, width: 4)
        var fed: [[Int]] = []
        while let pass = schedule.nextPass(grid) {
            fed.append(pass.inputs.map(\.position))
            for p in pass.predictions { grid[p.cell] = 1 }
            schedule.passDidFinish(pass, grid: grid)
        }
        // skipped: (0,1), (0,2), (0,3), the pass feeding (0,3), the line end predicting (1,0)
        XCTAssertEqual(record.unmarkedSlots, [6, 7, 8, 9, 10])
        XCTAssertEqual(fed.count, 3)
        XCTAssertEqual(fed[1], [10])  // (1,0) fed at its slot, predicting (1,1)
        XCTAssertEqual(record.finished.count, 3)
    }
}
