import Foundation
import XCTest
@testable import ZipAR

/// Continuous batching: images that join a running batch between passes, leave it when cancelled, and
/// reuse the cache rows of images that left, each equal to the same image generated alone (tokens, pass
/// counts, the pass of every cell), for every schedule, on the glyph model and Lumina (two schedules each), a Janus case (prompts of
/// different lengths) and a Lumina-mGPT case (end-of-line tokens).
final class ContinuousBatchTests: XCTestCase {
    private func specs(width w: Int) throws -> [ScheduleSpec] {
        [.raster, try ScheduleSpec.make(name: "zipar", width: w, window: max(1, w / 3)),
         try ScheduleSpec.make(name: "zipar-adaptive", width: w, minWindow: max(2, w / 3)),
         try ScheduleSpec.make(name: "zipar-reference", width: w, window: max(2, w / 3)),
         .ziparLossless(verifyWindow: 3, draftLag: max(1, w / 3), draftRows: w)]
    }

    /// Eight images arrive over time into a batch of three places (guided and unguided, sampled): image k
    /// is offered after 2k passes and waits while the places are full; image 2 is cancelled after its third
    /// pass, so a later image gets its rows, still holding image 2's keys and values until reset.
    private func check(_ model: any ImageTokenModel, conditions: [ImageCondition], name: String,
                       schedules: [ScheduleSpec]? = nil) throws {
        let generator = ImageGenerator(model: model), sampling = SamplingOptions(temperature: 1, topK: 0, topP: 1)
        let options = conditions.enumerated().map { k, condition in
            GenerationOptions(condition: condition, cfgScale: k % 3 == 1 ? 1 : 3, sampling: sampling, seed: UInt64(40 + k))
        }
        let slots = try options.map { try generator.layout(for: $0.condition).slots }.max()!
        for spec in try schedules ?? specs(width: model.gridWidth) {
            let batch = ContinuousBatch(generator: generator, rows: 6, slots: slots)
            var results: [Int: GenerationResult] = [:], next = 0, pass = 0, passesOf2 = 0
            while results.count + (next > 2 ? 1 : 0) < options.count {
                while next < options.count, 2 * next <= pass, batch.count < 3 {
                    let layout = try generator.layout(for: options[next].condition)
                    guard try batch.admit(UInt64(next), schedule: spec.schedule(layout: layout, cfgInterval: -1), options: options[next]) else {
                        return XCTFail("\(name) \(spec): image \(next) found no free rows beside \(batch.count) images")
                    }
                    next += 1
                }
                if batch.members.contains(2) {
                    passesOf2 += 1
                    if passesOf2 > 3 { batch.remove(2) }
                }
                for (id, result) in batch.step() { results[Int(id)] = result }
                pass += 1
                guard pass < 10_000 else { return XCTFail("\(name) \(spec): the batch never emptied") }
            }
            XCTAssertNil(results[2], "\(name) \(spec): the cancelled image finished")
            XCTAssertTrue(batch.isEmpty)
            for (k, result) in results {
                let alone = try generator.generate(spec, options: options[k])
                XCTAssertEqual(result.tokens, alone.tokens, "\(name) \(model.precision) \(spec) image \(k)")
                XCTAssertEqual(result.stats.forward_passes, alone.stats.forward_passes, "\(name) \(spec) image \(k)")
                XCTAssertEqual(result.stats.cell_pass, alone.stats.cell_pass, "\(name) \(spec) image \(k)")
            }
        }
    }

    func testGlyphModel() throws {
        let model = try ModelFiles.loadGPT(directory: BatchInvarianceTests.glyphModel, precision: .float32)
        // 12×12 tokens: the two schedules that read slots not yet written (zeros in a fresh row).
        try check(model, conditions: (0..<8).map { .classLabel(($0 * 5) % 36) }, name: "glyphs",
                  schedules: [.ziparReference(window: 4), .ziparLossless(verifyWindow: 3, draftLag: 4, draftRows: 12)])
    }

    func testJanusCase() throws {
        let prompts = ["a red fox", "", "a blue bird over the sea", "7", "a cat", "cats and dogs, 2 of them", "z", "a red fox"]
        let c = try XCTUnwrap(try JanusCase.all().first)
        try check(try c.load().model, conditions: prompts.map { .prompt($0) }, name: c.name)
    }

    func testLuminaCase() throws {
        let prompts = ["a red fox", "", "a blue bird", "7", "a cat", "two dogs", "z", "sea"]
        let c = try XCTUnwrap(try LuminaCase.all().first)
        let model = try c.load().model, w = model.gridWidth
        try check(model, conditions: prompts.map { .prompt($0) }, name: c.name,
                  schedules: [try ScheduleSpec.make(name: "zipar-reference", width: w, window: max(2, w / 3)),
                              .ziparLossless(verifyWindow: 3, draftLag: max(1, w / 3), draftRows: w)])
    }

    /// An image that needs more slots than the batch has is refused with the sizes; one that only lacks free
    /// rows waits (false).
    func testFullAndTooSmallBatches() throws {
        let model = try ModelFiles.loadGPT(directory: BatchInvarianceTests.glyphModel, precision: .float32)
        let generator = ImageGenerator(model: model)
        let layout = try generator.layout(for: .classLabel(3))
        let options = GenerationOptions(classLabel: 3, cfgScale: 2)
        let small = ContinuousBatch(generator: generator, rows: 2, slots: layout.slots - 1)
        XCTAssertThrowsError(try small.admit(1, schedule: ScheduleSpec.raster.schedule(layout: layout, cfgInterval: -1), options: options)) {
            XCTAssertEqual($0 as? ContinuousBatchError, .doesNotFit(rows: 2, slots: layout.slots, batchRows: 2, batchSlots: layout.slots - 1))
        }
        let full = ContinuousBatch(generator: generator, rows: 3, slots: layout.slots)
        XCTAssertTrue(try full.admit(1, schedule: ScheduleSpec.raster.schedule(layout: layout, cfgInterval: -1), options: options))
        XCTAssertFalse(try full.admit(2, schedule: ScheduleSpec.raster.schedule(layout: layout, cfgInterval: -1), options: options))
        XCTAssertEqual(full.members, [1])
    }
}
