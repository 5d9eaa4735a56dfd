import XCTest
@testable import ZipAR

/// The step-0 oracle: teacher-forced raster picks every raster token (its own view is exact), the
/// wavefront's agreement grows with its lag and is below 1 at lag 1, and copies are scored over every cell
/// but the first.
final class DraftOracleTests: XCTestCase {
    func testOracleOnTheGlyphModel() throws {
        let model = try ModelFiles.loadGPT(directory: BatchInvarianceTests.glyphModel)
        let oracle = DraftOracle(generator: ImageGenerator(model: model))
        let batch = [3, 20].map { GenerationOptions(classLabel: $0, cfgScale: 2, sampling: SamplingOptions(temperature: 0.7, topK: 10), seed: 5) }
        let raster = try oracle.generator.generate(.raster, batch: batch)
        for (options, r) in zip(batch, raster) {
            XCTAssertEqual(try oracle.teacherForced(.raster, tokens: r.tokens, options: options), r.tokens)
            XCTAssertEqual(try oracle.teacherForced(.zipar(window: 12, rowStart: .placeholder), tokens: r.tokens, options: options), r.tokens)
        }
        let rows = try oracle.measure(batch, lags: [1, 6], batchSize: 2)
        XCTAssertEqual(rows.map(\.cells), [286, 286, 288, 288])
        XCTAssertEqual(rows[2].cellsBelowRow0, 264)
        XCTAssertLessThan(rows[2].rate, rows[3].rate)
        XCTAssertLessThan(rows[2].rate, 0.9)
    }
}
