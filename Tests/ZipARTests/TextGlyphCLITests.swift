import Foundation
import XCTest
@testable import ZipAR

/// `zipar generate --prompt` and `zipar eval --prompts` with the shipped text glyph model.
extension CLITests {
    var textGlyphs: String { TextGlyphModelTests.textModel }

    /// Two prompts draw a two-image grid with ZipAR, and the same prompt and seed alone gives the grid's
    /// first image.
    func testTextGlyphPromptGrid() throws {
        let grid = work.appendingPathComponent("grid.png"), single = work.appendingPathComponent("one.png")
        var (status, stderr) = try run(["generate", "--model", textGlyphs, "--prompt", "a red Z on yellow", "--prompt", "green letter k on black",
                                        "--schedule", "zipar-reference", "--window", "6", "--output", grid.path])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertTrue(stderr.contains("84 passes"), stderr)
        let image = try readPNG(grid.path)
        XCTAssertEqual([image.width, image.height], [2 * 48 + 3, 48])
        (status, stderr) = try run(["generate", "--model", textGlyphs, "--prompt", "a red Z on yellow", "--schedule", "zipar-reference", "--window", "6",
                                    "--quiet", "--output", single.path])
        XCTAssertEqual(status, 0, stderr)
        let one = try readPNG(single.path)
        for y in 0..<48 {
            XCTAssertEqual(image.pixels[(3 * y * image.width)..<(3 * (y * image.width + 48))],
                           one.pixels[(3 * y * 48)..<(3 * (y + 1) * 48)], "row \(y)")
        }
    }

    /// Held-out captions scored per schedule: zipar with the window = the grid width is raster order, so
    /// its images and every score equal raster's; the colour columns are there.
    func testEvalPromptsScoresCharactersAndColours() throws {
        let (status, data, stderr) = try runCapturing(["eval", "--prompts", "--model", textGlyphs, "--count", "4", "--schedules", "raster,zipar:12",
                                                       "--json", "--quiet"])
        XCTAssertEqual(status, 0, String(decoding: stderr, as: UTF8.self))
        let report = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let rows = report?["rows"] as? [[String: Any]] ?? []
        XCTAssertEqual(rows.map { $0["images"] as? Int }, [4, 4])
        XCTAssertEqual(report?["caption_count"] as? Int, 4)
        for key in ["accuracy", "glyph_color_accuracy", "background_color_accuracy", "frechet_distance"] {
            XCTAssertNotNil(rows[0][key] as? Double, key)
            XCTAssertEqual(rows[0][key] as? Double, rows[1][key] as? Double, key)
        }
    }

    /// The shipped model draws what held-out captions ask for: 72 of them (two per character), raster at
    /// the model's defaults, at least 80 % right characters and 90 % right colours (1,080 captions: docs/text-model.md).
    func testShippedTextModelDrawsTheCaptions() throws {
        let (status, data, stderr) = try runCapturing(["eval", "--prompts", "--count", "72", "--schedules", "raster", "--json", "--quiet"])
        XCTAssertEqual(status, 0, String(decoding: stderr, as: UTF8.self))
        let row = ((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["rows"] as? [[String: Any]])?.first ?? [:]
        XCTAssertGreaterThanOrEqual(row["accuracy"] as? Double ?? 0, 0.8, "\(row)")
        XCTAssertGreaterThanOrEqual(row["glyph_color_accuracy"] as? Double ?? 0, 0.9, "\(row)")
        XCTAssertGreaterThanOrEqual(row["background_color_accuracy"] as? Double ?? 0, 0.9, "\(row)")
    }

    /// With no model flag, --prompt draws with the embedded text model: the same image as naming its folder.
    func testPromptWithoutModelUsesTheEmbeddedTextModel() throws {
        let embedded = work.appendingPathComponent("embedded.png"), named = work.appendingPathComponent("named.png")
        var (status, stderr) = try run(["generate", "--prompt", "the digit 7, blue on white", "--seed", "3", "--quiet", "--output", embedded.path])
        XCTAssertEqual(status, 0, stderr)
        (status, stderr) = try run(["generate", "--model", textGlyphs, "--prompt", "the digit 7, blue on white", "--seed", "3", "--quiet",
                                    "--output", named.path])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertEqual(try readPNG(embedded.path).pixels, try readPNG(named.path).pixels)
    }

    func testPromptBadInputs() throws {
        try expectFailure(["generate", "--prompt", "a red Z", "--class-label", "Z"], mentions: "--class-label")
        try expectFailure(["generate", "--prompt", "a red Z", "--gpt", work.path], mentions: "--model")
        try expectFailure(["generate", "--model", textGlyphs, "--prompt", "a red Z", "--vq", work.path], mentions: "--vq")
        try expectFailure(["eval", "--count", "3"], mentions: "--prompts")
        try expectFailure(["eval", "--prompts", "--gpt", work.path], mentions: "--model")
        try expectFailure(["eval", "--prompts", "--model", textGlyphs, "--classes", "A"], mentions: "--classes")
        try expectFailure(["eval", "--prompts", "--model", textGlyphs, "--count", "0"], mentions: "--count")
        try expectFailure(["eval", "--prompts", "--model", textGlyphs, "--captions", work.appendingPathComponent("none.json").path],
                          mentions: "--captions")
    }
}
