import XCTest
@testable import ZipAR

/// zipar-lossless gives raster's tokens, bit for bit, for greedy decoding and for sampling with the same
/// seed, on the shipped glyph model, the conformance models, the Janus and the Lumina cases, over verification windows,
/// draft lags and draft rows, CFG on and off.
final class LosslessTests: XCTestCase {
    /// (K, lag, rows) for a grid of side `w`: K ∈ {1, 2, 4, 8, W} over lags 1, 2 and W/3 in turn with every
    /// row drafting, the window alone, a window past the row with one drafting row, and the whole grid.
    /// (`zipar lossless-check` runs every K with every lag.)
    /// With `every`, each K with each of those lags.
    static func configurations(side w: Int, every: Bool = false) -> [(Int, Int, Int)] {
        let lags = [1, 2, max(1, w / 3)], ks = [1, 2, 4, 8, w]
        let grid = every ? ks.flatMap { k in lags.map { (k, min(w, $0), w) } } : ks.enumerated().map { ($1, min(w, lags[$0 % 3]), w) }
        return grid + [(w, 1, 0), (w + 2, 2, 1), (w * w, 2, 3)]
    }

    /// Every configuration's tokens equal raster's for `options`, on every image of `batch`.
    private func check(_ generator: ImageGenerator, _ batch: [GenerationOptions], name: String,
                       configurations: [(Int, Int, Int)]) throws {
        let raster = try generator.generate(.raster, batch: batch)
        let side = generator.model.gridWidth, cells = side * generator.model.gridHeight
        for (k, lag, rows) in configurations {
            let spec = ScheduleSpec.ziparLossless(verifyWindow: k, draftLag: lag, draftRows: rows)
            let got = try generator.generate(spec, batch: batch)
            for (i, (g, r)) in zip(got, raster).enumerated() {
                XCTAssertEqual(g.tokens, r.tokens, "\(name) \(spec) image \(i)")
                XCTAssertLessThanOrEqual(g.stats.forward_passes, r.stats.forward_passes, "\(name) \(spec)")
                XCTAssertEqual(g.stats.tokens_per_pass.reduce(0, +), cells)
                // after the lead passes (a header fed before the first image token: none, or Lumina's)
                let lead = r.stats.tokens_per_pass.prefix { $0 == 0 }.count
                XCTAssertTrue(g.stats.tokens_per_pass.dropFirst(lead).allSatisfy { 1...k ~= $0 }, "\(name) \(spec): \(g.stats.tokens_per_pass)")
                // the schedule's match counts are the sampler's verdicts on the drafts it was fed
                let matches = try XCTUnwrap(g.stats.draft_matches)
                XCTAssertEqual(matches.total.matched, g.stats.accepted, "\(name) \(spec)")
                XCTAssertEqual(matches.total.verified, g.stats.accepted + g.stats.rejected, "\(name) \(spec)")
                XCTAssertEqual(matches.by_age.reduce(0) { $0 + $1.verified }, matches.total.verified)
                XCTAssertEqual(g.stats.tokens_per_pass_histogram.enumerated().reduce(0) { $0 + $1.offset * $1.element }, cells)
            }
        }
    }

    /// Greedy on the glyph model (12×12), CFG 2 and off, three classes (every class: `zipar lossless-check`).
    func testGreedyGlyphModel() throws {
        let model = try ModelFiles.loadGPT(directory: BatchInvarianceTests.glyphModel)
        let generator = ImageGenerator(model: model)
        for cfg: Float in [1, 2] {
            let batch = [7, 17, 35].map { GenerationOptions(classLabel: $0, cfgScale: cfg, sampling: SamplingOptions(temperature: 0)) }
            try check(generator, batch, name: "glyph cfg \(cfg)", configurations: LosslessTests.configurations(side: 12))
        }
    }

    /// Greedy on every conformance model, four classes, CFG on and off.
    func testGreedyConformanceModels() throws {
        for c in try ConformanceCase.all() {
            let model = try c.gpt()
            let generator = ImageGenerator(model: model)
            for cfg: Float in [1, 4] {
                let batch = [0, 3, 6, 9].map { greedy($0 % model.config.num_classes, cfg: cfg) }
                try check(generator, batch, name: "\(c.name) cfg \(cfg)", configurations: LosslessTests.configurations(side: model.gridWidth))
            }
        }
    }

    /// Greedy on every Janus case (text-to-image: a prompt prefix), CFG on and off, every K with every lag.
    func testGreedyJanusCases() throws {
        for c in try JanusCase.all() {
            let loaded = try c.load()
            let generator = ImageGenerator(model: loaded.model)
            for cfg: Float in [1, 5] {
                let options = GenerationOptions(condition: .prompt(c.info.prompt), cfgScale: cfg, sampling: SamplingOptions(temperature: 0))
                try check(generator, [options], name: "\(c.name) cfg \(cfg)", configurations: LosslessTests.configurations(side: loaded.model.gridWidth, every: true))
            }
        }
    }

    /// Every Lumina case (rows end in an end-of-line token, never drafted; raster's CFG rows), greedy
    /// with CFG on and off, and sampled with Lumina's top-k, every K over the lags.
    func testLuminaCasesEqualRaster() throws {
        for c in try LuminaCase.all() {
            let loaded = try c.load()
            let generator = ImageGenerator(model: loaded.model)
            let configurations = LosslessTests.configurations(side: loaded.model.gridWidth)
            for cfg: Float in [1, 3] {
                let options = GenerationOptions(condition: .prompt(c.info.prompt), cfgScale: cfg, sampling: SamplingOptions(temperature: 0))
                try check(generator, [options], name: "\(c.name) cfg \(cfg)", configurations: configurations)
            }
            let sampled = (0..<3).map { GenerationOptions(condition: .prompt(c.info.prompt), cfgScale: 3,
                                                          sampling: SamplingOptions(temperature: 1, topK: 2000), seed: UInt64($0)) }
            try check(generator, sampled, name: "\(c.name) sampled", configurations: configurations)
        }
    }

    /// Sampling: the glyph model's settings (CFG 2, temperature 0.7, top-k 10) and temperature 1 with top-p
    /// 0.9; zipar-lossless draws raster's image for each seed (a fast subset; the 1,000-seed sweep is
    /// `zipar lossless-check`).
    func testSampledGlyphModelEqualsRasterPerSeed() throws {
        let model = try ModelFiles.loadGPT(directory: BatchInvarianceTests.glyphModel)
        let generator = ImageGenerator(model: model)
        for sampling in [SamplingOptions(temperature: 0.7, topK: 10), SamplingOptions(temperature: 1, topP: 0.9)] {
            let batch = (0..<6).map { GenerationOptions(classLabel: ($0 * 7) % 36, cfgScale: 2, sampling: sampling, seed: UInt64(1000 + $0)) }
            try check(generator, batch, name: "glyph \(sampling)", configurations: [(1, 1, 12), (4, 2, 12), (12, 2, 12), (12, 1, 0)])
        }
    }

    /// Sampling on the conformance models and a Janus case, with the cfg-interval rule cutting guidance
    /// mid-image (a window must not cross it).
    func testSampledOtherModelsEqualRaster() throws {
        for c in try ConformanceCase.all() {
            let model = try c.gpt()
            let generator = ImageGenerator(model: model)
            let batch = (0..<6).map { GenerationOptions(classLabel: $0 % model.config.num_classes, cfgScale: 4, cfgInterval: $0 < 3 ? -1 : 20,
                                                        sampling: SamplingOptions(temperature: 1, topK: 50), seed: UInt64($0)) }
            try check(generator, batch, name: c.name, configurations: [(4, 2, model.gridHeight), (model.gridWidth, 1, 2)])
        }
        let janus = try JanusCase.all()[3]
        let loaded = try janus.load()
        let options = (0..<4).map { GenerationOptions(condition: .prompt(janus.info.prompt), cfgScale: 5, sampling: SamplingOptions(temperature: 1), seed: UInt64($0)) }
        try check(ImageGenerator(model: loaded.model), options, name: janus.name, configurations: [(4, 2, 7), (8, 1, 7)])
    }
}
