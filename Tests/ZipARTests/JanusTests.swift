import XCTest
@testable import ZipAR

/// Janus-Pro against transformers' `JanusForConditionalGeneration` on the tiny cases of
/// Fixtures/janus (both key layouts): prompt tokens, teacher logits, every schedule's tokens, passes
/// and images.
final class JanusTests: XCTestCase {
    /// The template and tokenizer give transformers' input ids; the unconditional row pads all but BOS/BOI.
    func testPromptTokens() throws {
        for c in try JanusCase.all() {
            let model = try XCTUnwrap(try c.load().model as? JanusModel)
            let conditioning = try model.conditioning(.prompt(c.info.prompt), guidance: true)
            XCTAssertEqual(conditioning.rows[0], c.info.input_ids, c.name)
            XCTAssertEqual(conditioning.rows[1], c.info.uncond_input_ids, c.name)
        }
    }

    /// One forward over the prompt and the teacher tokens: gen_head logits within 1e-4 of max |logit|.
    func testTeacherLogits() throws {
        for c in try JanusCase.all() {
            let loaded = try c.load(), model = loaded.model
            let teacher = try c.expected.entry("teacher_tokens").floats().map { Int($0) }
            let want = try c.expected.entry("teacher_logits").floats()
            let layout = try model.conditioning(.prompt(c.info.prompt), guidance: false).layout
            let prefix = layout.conditionTokens
            let inputs = (0..<prefix).map { ModelInput(.condition($0), position: $0) }
                + teacher.dropLast().enumerated().map { ModelInput(.token($1), position: prefix + $0) }
            let cache = model.makeCache(batch: 1, slots: layout.slots)
            let got = Array(model.forward(inputs, conditions: [c.info.input_ids], cache: cache, visibility: .staticCausal,
                                          logitsFor: Array((prefix - 1)..<inputs.count)))
            XCTAssertEqual(got.count, want.count, c.name)
            let scale = want.map { abs($0) }.max()!, worst = zip(got, want).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "\(c.name): max |Δ| \(worst), max |logit| \(scale)")
        }
    }

    /// Every run: tokens exact, the reference's pass count, and the image within the conformance
    /// tolerance (floats within 1e-3; PNG channels within 2, at most 0.5 % off by more than 1).
    func testRunsMatchTransformers() throws {
        for c in try JanusCase.all() {
            let loaded = try c.load()
            let generator = ImageGenerator(model: loaded.model)
            for run in c.info.runs {
                let label = "\(c.name)/\(run.key)"
                let result = try generator.generate(try c.spec(run, width: loaded.model.gridWidth), options: c.options(run))
                XCTAssertEqual(result.tokens, run.tokens, label)
                XCTAssertEqual(result.stats.forward_passes, run.forward_passes, label)
                let image = try loaded.decoder.decode(tokens: run.tokens, height: c.info.grid, width: c.info.grid)
                try assertImageMatches(image, want: try c.expected.entry("\(run.key)_image").floats(),
                                       png: c.directory.appendingPathComponent(run.image).path, mapping: loaded.pixelMapping, label)
            }
        }
    }
}
