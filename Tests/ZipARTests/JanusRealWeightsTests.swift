import Foundation
import XCTest
@testable import ZipAR

/// Opt-in check on the released weights: set ZIPAR_JANUS_PRO_1B to a Janus-Pro-1B folder
/// (deepseek-ai/Janus-Pro-1B as downloaded, or transformers' deepseek-community/Janus-Pro-1B) and
/// `swift test --filter JanusRealWeightsTests` compares greedy decoding with transformers' published
/// golden (tests/models/janus/test_modeling_janus.py, test_model_generate_images: the prompt with
/// `<begin_of_image>` and BOS, 17 tokens, no chat template, CFG 5 from generation_config, the first 50
/// tokens on CUDA; the test notes that results are hardware-dependent). Skipped without the variable.
final class JanusRealWeightsTests: XCTestCase {
    static let golden = [
        4484, 4015, 15750, 506, 3758, 11651, 8597, 5739, 4861, 971, 14985, 14834, 15438, 7548, 1820, 1465,
        13529, 12761, 10503, 12761, 14303, 6155, 4015, 11766, 705, 15736, 14146, 10417, 1951, 7713, 14305,
        15617, 6169, 2706, 8006, 14893, 3855, 10188, 15652, 6297, 1097, 12108, 15038, 311, 14998, 15165,
        897, 4044, 1762, 4676,
    ]

    /// Raster order that stops after `limit` tokens.
    struct FirstTokens: DecodingSchedule {
        var raster: RasterSchedule
        let limit: Int
        var name: String { "raster-first-\(limit)" }
        mutating func nextPass(_ grid: TokenGrid) -> DecodingPass? { grid.filledCount < limit ? raster.nextPass(grid) : nil }
        mutating func passDidFinish(_ pass: DecodingPass, grid: TokenGrid) { raster.passDidFinish(pass, grid: grid) }
    }

    func testJanusPro1BGreedyGolden() throws {
        guard let dir = ProcessInfo.processInfo.environment["ZIPAR_JANUS_PRO_1B"] else {
            throw XCTSkip("set ZIPAR_JANUS_PRO_1B to a Janus-Pro-1B folder to run this check")
        }
        let loaded = try ModelRegistry.load(directory: dir)
        let model = try XCTUnwrap(loaded.model as? JanusModel)
        var ids = try XCTUnwrap(model.prompt.tokenizer).encode("A portrait of young girl. masterpiece, film grained, best quality.<begin_of_image>")
        if ids.first != model.prompt.bos { ids.insert(model.prompt.bos, at: 0) }
        XCTAssertEqual(ids.count, 17)
        XCTAssertEqual(loaded.sampling.cfgScale, 5)
        let options = GenerationOptions(condition: .promptTokens(ids), cfgScale: loaded.sampling.cfgScale,
                                        sampling: SamplingOptions(temperature: 0))
        let generator = ImageGenerator(model: model)
        var schedule = FirstTokens(raster: RasterSchedule(layout: try generator.layout(for: options.condition)), limit: 50)
        let tokens = Array(try generator.generate(schedule: &schedule, options: options).tokens.prefix(50))
        let agree = zip(tokens, JanusRealWeightsTests.golden).prefix { $0 == $1 }.count
        XCTAssertEqual(tokens, JanusRealWeightsTests.golden, "first \(agree) tokens agree with transformers' CUDA golden")
    }
}
