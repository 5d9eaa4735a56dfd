import Foundation
import XCTest
@testable import ZipAR

/// The shipped text glyph model (Sources/zipar/DefaultModel/text: `tools/textglyphs/run_text.sh --install`,
/// a transformers JanusForConditionalGeneration folder) against
/// transformers' own greedy generate (Fixtures/textglyphs/greedy.json, from tools/textglyphs/check_text_model.py),
/// and the colour measure and captions file `zipar eval --prompts` uses.
final class TextGlyphModelTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var textModel: String { repository.appendingPathComponent("Sources/zipar/DefaultModel/text").path }

    struct Greedy: Decodable {
        struct Run: Decodable { var prompt: String; var cfg_scale: Float; var input_ids: [Int]; var tokens: [Int] }
        var runs: [Run]
    }

    /// Prompt tokens from our tokenizer and template, and the raster greedy image tokens, equal
    /// transformers' for every prompt and guidance scale of the fixture.
    func testGreedyTokensEqualTransformers() throws {
        let loaded = try ModelRegistry.load(directory: Self.textModel, precision: nil, imageSize: nil)
        let model = try XCTUnwrap(loaded.model as? JanusModel)
        let fixture = Self.repository.appendingPathComponent("Tests/ZipARTests/Fixtures/textglyphs/greedy.json")
        let greedy = try JSONDecoder().decode(Greedy.self, from: Data(contentsOf: fixture))
        XCTAssertGreaterThanOrEqual(greedy.runs.count, 8)
        let generator = ImageGenerator(model: model)
        for run in greedy.runs {
            XCTAssertEqual(try model.prompt.tokens(run.prompt), run.input_ids, run.prompt)
            let options = GenerationOptions(condition: .prompt(run.prompt), cfgScale: run.cfg_scale,
                                            sampling: SamplingOptions(temperature: 0, topK: 0, topP: 1))
            XCTAssertEqual(try generator.generate(.raster, options: options).tokens, run.tokens, "\(run.prompt) cfg \(run.cfg_scale)")
        }
    }

    /// The folder holds what `zipar eval --prompts` reads: captions that ask for every character, in the
    /// palette's colours, and the FD reference statistics.
    func testFolderHoldsTheEvaluationFiles() throws {
        let file = try EvalCaptions.read((Self.textModel as NSString).appendingPathComponent("eval_captions.json"),
                                         labels: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        XCTAssertEqual(Set(file.captions.map(\.char)).count, 36)
        XCTAssertEqual(file.palette.count, 12)
        let reference = try FeatureStatistics(file: (Self.textModel as NSString).appendingPathComponent("fd_reference.safetensors"))
        XCTAssertEqual(reference.dimension, 128)
    }

    static let palette = Palette(colors: [.init(name: "black", rgb: [0, 0, 0]), .init(name: "white", rgb: [255, 255, 255]),
                                          .init(name: "red", rgb: [220, 30, 30]), .init(name: "blue", rgb: [30, 70, 200])])

    /// A bar of glyph colour with a one-pixel anti-aliased edge on a background, shifted to touch the
    /// border: the measure names both colours, for every ordered pair.
    func testPaletteMeasuresGlyphAndBackground() {
        let colors = Self.palette.colors.map { $0.rgb.map(Float.init) }
        for g in colors.indices {
            for b in colors.indices where b != g {
                let side = 24
                var pixels = [UInt8](repeating: 0, count: side * side * 3)
                for y in 0..<side {
                    for x in 0..<side {
                        // glyph columns 1…8 (touching the border ring), half-covered edge at column 9
                        let cover: Float = (1...8).contains(x) && (4..<20).contains(y) ? 1 : (x == 9 && (4..<20).contains(y) ? 0.5 : 0)
                        for c in 0..<3 {
                            pixels[3 * (y * side + x) + c] = UInt8((colors[b][c] + (colors[g][c] - colors[b][c]) * cover).rounded())
                        }
                    }
                }
                let seen = Self.palette.measure(RGBImage(width: side, height: side, pixels: pixels))
                XCTAssertEqual(seen.glyph, g, "glyph \(g) on \(b)")
                XCTAssertEqual(seen.background, b, "background \(b) under \(g)")
            }
        }
    }

    /// Bad captions files: one error naming the file and the entry.
    func testCaptionsFileErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zipar-captions-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let palette = #"[{"name": "red", "rgb": [220, 30, 30]}, {"name": "white", "rgb": [255, 255, 255]}]"#
        let cases: [(String, String)] = [
            (#"{"palette": \#(palette), "captions": [{"prompt": "a red Q", "char": "Q", "fg": "red", "bg": "mauve"}]}"#, "mauve"),
            (#"{"palette": \#(palette), "captions": [{"prompt": "a red q", "char": "q", "fg": "red", "bg": "white"}]}"#, "captions[0].char"),
            (#"{"palette": \#(palette), "captions": []}"#, "captions"),
            (#"{"palette": [{"name": "red", "rgb": [300, 0, 0]}], "captions": []}"#, "palette[0]"),
            (#"{"palette": [{"name": "red", "rgb": [1, 0, 0]}, {"name": "red", "rgb": [2, 0, 0]}], "captions": []}"#, "twice"),
            (#"{"palette": \#(palette)}"#, "captions"),
        ]
        for (i, (text, mention)) in cases.enumerated() {
            let path = dir.appendingPathComponent("c\(i).json").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try EvalCaptions.read(path, labels: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "case \(i)") { error in
                let line = "\(error)"
                XCTAssertTrue(line.contains(path) && line.contains(mention), "case \(i): \(line)")
            }
        }
    }
}
