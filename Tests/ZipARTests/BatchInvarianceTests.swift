import Foundation
import XCTest
@testable import ZipAR

/// An image's tokens do not depend on what else shares its passes: each image of a batch of 8 (different
/// conditions and seeds, sampled) equals the same image generated alone, for every schedule, in float32,
/// bfloat16 and int8, on the conformance models, the Janus cases and the shipped glyph model.
final class BatchInvarianceTests: XCTestCase {
    /// The glyph model shipped in the zipar executable's resources.
    static var glyphModel: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/zipar/DefaultModel/gpt").path
    }

    private func specs(width w: Int) throws -> [ScheduleSpec] {
        [.raster, try ScheduleSpec.make(name: "zipar", width: w, window: max(1, w / 3)),
         try ScheduleSpec.make(name: "zipar-adaptive", width: w, minWindow: max(2, w / 3)),
         try ScheduleSpec.make(name: "zipar-reference", width: w, window: max(2, w / 3)), .ziparLossless(verifyWindow: w, draftLag: max(1, w / 3), draftRows: w)]
    }

    private func check(_ model: any ImageTokenModel, conditions: [ImageCondition], name: String) throws {
        let generator = ImageGenerator(model: model)
        let sampling = SamplingOptions(temperature: 1, topK: 0, topP: 1)
        let batch = conditions.enumerated().map { k, condition in
            GenerationOptions(condition: condition, cfgScale: k % 3 == 2 ? 1 : 3, sampling: sampling, seed: UInt64(100 + k))
        }
        for spec in try specs(width: model.gridWidth) {
            let together = try generator.generate(spec, batch: batch)
            for (k, options) in batch.enumerated() {
                let alone = try generator.generate(spec, options: options)
                XCTAssertEqual(together[k].tokens, alone.tokens, "\(name) \(model.precision) \(spec) image \(k)")
                XCTAssertEqual(together[k].stats.forward_passes, alone.stats.forward_passes, "\(name) \(spec) image \(k)")
                XCTAssertEqual(together[k].stats.cell_pass, alone.stats.cell_pass, "\(name) \(spec) image \(k)")
            }
        }
    }

    func testClassModels() throws {
        let folders = try ConformanceCase.all().map { $0.directory.appendingPathComponent("gpt").path } + [BatchInvarianceTests.glyphModel]
        for folder in folders {
            for precision in WeightPrecision.allCases {
                let model = try ModelFiles.loadGPT(directory: folder, precision: precision)
                let labels = (0..<8).map { ImageCondition.classLabel(($0 * 7) % model.config.num_classes) }
                try check(model, conditions: labels, name: folder)
            }
        }
    }

    /// A product's row is the same bit for bit whether it runs alone or among 7 others (float32, bfloat16
    /// and int8: every row count from 1 to 8 groups its rows differently), with inner dimensions past the
    /// kernels' 256-step chunks and odd ones (int8 pairs its k-steps).
    func testLinearRowsIndependentOfRowCount() {
        var rng = RandomSource(seed: 5)
        for (rows, cols) in [(37, 700), (16, 257), (5, 1024), (20, 515)] {
            let values = (0..<rows * cols).map { _ in rng.nextGaussian() }
            let x = (0..<8 * cols).map { _ in rng.nextGaussian() }
            for precision in WeightPrecision.allCases {
                let w = WeightMatrix(rows: rows, cols: cols, values, precision: precision)
                var alone = [Float](repeating: 0, count: 8 * rows)
                for r in 0..<8 {
                    x.withUnsafeBufferPointer { x in alone.withUnsafeMutableBufferPointer { w.apply(x.baseAddress! + r * cols, m: 1, to: $0.baseAddress! + r * rows) } }
                }
                for m in 2...8 {
                    var all = [Float](repeating: 0, count: m * rows)
                    w.apply(x, m: m, to: &all)
                    XCTAssertEqual(all, Array(alone[..<(m * rows)]), "\(rows)×\(cols) \(precision) m=\(m)")
                }
            }
        }
    }

    /// A random LlamaGen wide enough (dim 320) that every product runs past the kernel's k-chunks.
    func testWideRandomModel() throws {
        var c = GPTConfig()
        (c.dim, c.n_layer, c.n_head, c.vocab_size, c.num_classes, c.block_size) = (320, 2, 4, 256, 10, 36)
        for precision in WeightPrecision.allCases {
            let model = GPT(config: c, weights: GPTWeights(randomFor: c, seed: 3, precision: precision))
            try check(model, conditions: (0..<8).map { .classLabel($0 % 10) }, name: "random dim 320")
        }
    }

    func testJanusModels() throws {
        let prompts = ["a red fox", "", "a blue bird over the sea", "7", "a cat", "a red fox", "cats and dogs, 2 of them", "z"]
        for c in try JanusCase.all() {
            for precision in WeightPrecision.allCases {
                try check(try c.load(precision: precision).model, conditions: prompts.map { .prompt($0) }, name: c.name)
            }
        }
    }
}
