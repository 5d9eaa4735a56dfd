import XCTest
@testable import ZipAR

final class GenerationTests: XCTestCase {
    /// Every reference run: the same tokens (exact) and the same number of forward passes.
    func testConformanceTokensAndPasses() throws {
        for c in try ConformanceCase.all() {
            let generator = ImageGenerator(model: try c.gpt())
            for run in c.info.runs {
                var schedule = c.schedule(for: run, layout: generator.layout)
                let result = try generator.generate(schedule: &schedule, options: greedy(c.info.class_label, cfg: run.cfg_scale))
                XCTAssertEqual(result.tokens, run.tokens, "\(c.name)/\(run.key)")
                XCTAssertEqual(result.stats.forward_passes, run.forward_passes, "\(c.name)/\(run.key)")
            }
        }
    }

    /// Generated tokens decode to the reference image: every channel within 2/255 of the reference float
    /// image mapped to bytes, and the float output within 1e-3 (absolute, values in [-1, 1]).
    func testConformanceImages() throws {
        for c in try ConformanceCase.all() {
            let generator = ImageGenerator(model: try c.gpt())
            let decoder = try c.vq()
            for run in c.info.runs {
                var schedule = c.schedule(for: run, layout: generator.layout)
                let result = try generator.generate(schedule: &schedule, options: greedy(c.info.class_label, cfg: run.cfg_scale))
                let image = try decoder.decode(tokens: result.tokens, height: result.height, width: result.width)
                let want = try c.expected.entry("\(run.key)_image").floats()
                let worst = zip(image.data, want).map { abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(worst, 1e-3, "\(c.name)/\(run.key)")
                let png = try readPNG(c.directory.appendingPathComponent(run.image).path)
                let got = image.rgbImage()
                let maxDiff = zip(got.pixels, png.pixels).map { abs(Int($0) - Int($1)) }.max()!
                XCTAssertLessThanOrEqual(maxDiff, 2, "\(c.name)/\(run.key) PNG")
            }
        }
    }

    /// CFG with scale 1 (unconditional row run and mixed in) gives the tokens of no guidance at all.
    func testGuidanceScaleOneEqualsNoGuidance() throws {
        let c = try ConformanceCase("c2i-tiny-8x8")
        let generator = ImageGenerator(model: try c.gpt())
        for sampling in [SamplingOptions(temperature: 0), SamplingOptions(temperature: 1, topK: 100)] {
            let options = GenerationOptions(classLabel: 3, cfgScale: 1, sampling: sampling, seed: 7)
            var a = RasterSchedule(layout: generator.layout), b = a
            let plain = try generator.generate(schedule: &a, options: options, guidanceBatch: false, progress: nil)
            let guided = try generator.generate(schedule: &b, options: options, guidanceBatch: true, progress: nil)
            XCTAssertEqual(plain.tokens, guided.tokens)
        }
    }

    /// The same seed gives the same tokens; another seed other tokens.
    func testSeedsAreReproducible() throws {
        let c = try ConformanceCase("c2i-tiny-8x8")
        let generator = ImageGenerator(model: try c.gpt())
        func run(_ seed: UInt64) throws -> [Int] {
            var s = ZipARReferenceSchedule(layout: generator.layout, window: 3)
            return try generator.generate(schedule: &s, options: GenerationOptions(classLabel: 1, cfgScale: 2, seed: seed)).tokens
        }
        XCTAssertEqual(try run(11), try run(11))
        XCTAssertNotEqual(try run(11), try run(12))
    }

    /// Bad requests fail before any work.
    func testClassLabelOutOfRange() throws {
        let c = try ConformanceCase("c2i-tiny-8x8")
        let generator = ImageGenerator(model: try c.gpt())
        var s = RasterSchedule(layout: generator.layout)
        XCTAssertThrowsError(try generator.generate(schedule: &s, options: GenerationOptions(classLabel: 10))) {
            XCTAssertEqual($0 as? GenerationError, .classLabelOutOfRange(10, classes: 10))
        }
    }

    /// A progress callback returning false cancels.
    func testProgressCanCancel() throws {
        let c = try ConformanceCase("c2i-tiny-8x8")
        let generator = ImageGenerator(model: try c.gpt())
        var s = RasterSchedule(layout: generator.layout)
        var calls = 0
        XCTAssertThrowsError(try generator.generate(schedule: &s, options: greedy(0, cfg: 1)) { _ in calls += 1; return calls < 5 }) {
            XCTAssertEqual($0 as? GenerationError, .cancelled)
        }
        XCTAssertEqual(calls, 5)
    }
}

final class GenerationEventTests: XCTestCase {
    /// The event stream reports every pass, then the same result as a direct call.
    func testEventStreamMatchesDirectGeneration() async throws {
        let c = try ConformanceCase("c2i-tiny-8x8")
        let generator = ImageGenerator(model: try c.gpt())
        var direct = ZipARReferenceSchedule(layout: generator.layout, window: 2)
        let want = try generator.generate(schedule: &direct, options: greedy(3, cfg: 4))
        var passes = 0
        var result: GenerationResult?
        for try await event in generator.events(schedule: ZipARReferenceSchedule(layout: generator.layout, window: 2), options: greedy(3, cfg: 4)) {
            switch event {
            case .progress: passes += 1
            case .finished(let r): result = r
            }
        }
        XCTAssertEqual(passes, 28)
        XCTAssertEqual(result?.tokens, want.tokens)
    }
}
