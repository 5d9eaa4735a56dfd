import Foundation
import XCTest
@testable import ZipAR

/// The `zipar` command line on bad input: one clear line on stderr, a non-zero exit, no output file.
final class CLITests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("zipar-cli-\(UUID())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    /// The built executable (beside the test bundle in the build folder).
    var executable: URL {
        var dir = Bundle(for: CLITests.self).bundleURL
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("zipar").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("zipar")
    }

    func run(_ args: [String]) throws -> (status: Int32, stderr: String) {
        let (status, _, stderr) = try runCapturing(args)
        return (status, String(decoding: stderr, as: UTF8.self))
    }

    /// Runs zipar with `args`, capturing stdout (a pipe) and stderr (a file, so neither can fill and block).
    func runCapturing(_ args: [String]) throws -> (status: Int32, stdout: Data, stderr: Data) {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        let out = Pipe()
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("zipar-stderr-\(UUID())")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try err.close()
        return (p.terminationStatus, stdout, try Data(contentsOf: errURL))
    }

    var tiny: URL { ConformanceCase.root.appendingPathComponent("c2i-tiny-8x8") }

    /// A copy of the tiny case's gpt folder with its weights replaced by `weights` (or rewritten by `edit`).
    func gptFolder(_ name: String, weights: Data? = nil, config: String? = nil) throws -> String {
        let dir = work.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let src = tiny.appendingPathComponent("gpt")
        try (config.map { Data($0.utf8) } ?? Data(contentsOf: src.appendingPathComponent("config.json")))
            .write(to: dir.appendingPathComponent("config.json"))
        try (weights ?? Data(contentsOf: src.appendingPathComponent("model.safetensors")))
            .write(to: dir.appendingPathComponent("model.safetensors"))
        return dir.path
    }

    func expectFailure(_ args: [String], mentions: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let out = work.appendingPathComponent("out.png")
        let writes = ["generate", "decode"].contains(args.first ?? "")
        let (status, stderr) = try run(args + (writes ? ["--output", out.path] : []) + (["generate", "eval"].contains(args.first ?? "") ? ["--quiet"] : []))
        XCTAssertNotEqual(status, 0, file: file, line: line)
        XCTAssertTrue(stderr.contains(mentions), "stderr: \(stderr)", file: file, line: line)
        XCTAssertEqual(stderr.split(separator: "\n").count, 1, "one line expected: \(stderr)", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "no output on failure", file: file, line: line)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: work.path).filter { $0.hasPrefix(".") || $0.contains("tmp") }
        XCTAssertEqual(leftovers, [], "no temporary files left", file: file, line: line)
    }

    func testGeneratesWithTheDefaultModel() throws {
        let out = work.appendingPathComponent("ok.png"), stats = work.appendingPathComponent("stats.json")
        let (status, stderr) = try run(["generate", "--class-label", "Z", "--schedule", "zipar-reference", "--window", "3",
                                        "--quiet", "--output", out.path, "--stats-out", stats.path])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertEqual(try readPNG(out.path).width, 48)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: stats)) as? [String: Any]
        XCTAssertEqual(json?["forward_passes"] as? Int, 2 * 12 + 10 * 3)
    }

    /// Several characters give a grid: one 48-pixel image per label with a gap of 3 (48 / 16) between them,
    /// `--columns` wrapping the rows; the same label at the same seed gives the same image.
    func testGridOfLabels() throws {
        let grid = work.appendingPathComponent("grid.png"), single = work.appendingPathComponent("a.png")
        var (status, stderr) = try run(["generate", "--class-label", "A,B,C", "--columns", "2", "--quiet", "--output", grid.path])
        XCTAssertEqual(status, 0, stderr)
        let image = try readPNG(grid.path)
        XCTAssertEqual([image.width, image.height], [2 * 48 + 3, 2 * 48 + 3])
        (status, stderr) = try run(["generate", "--class-label", "A", "--quiet", "--output", single.path])
        XCTAssertEqual(status, 0, stderr)
        let a = try readPNG(single.path)
        for y in 0..<48 {
            XCTAssertEqual(Array(image.pixels[(y * image.width) * 3..<(y * image.width + 48) * 3]), Array(a.pixels[y * 48 * 3..<(y + 1) * 48 * 3]))
        }
        // the white gap and the empty fourth cell
        XCTAssertEqual(image.pixels[(10 * image.width + 49) * 3], 255)
        XCTAssertEqual(Set(image.pixels[((60 * image.width) + 60) * 3..<((60 * image.width) + 90) * 3]), [255])
    }

    /// A folder with "labels" (the tiny case's weights): a label is one of its characters, else a digit is a
    /// class index; several characters give several images (seeds --seed, --seed+1, …); bad labels and a
    /// labels field of the wrong length are one-line errors.
    func testClassLabelsAsCharacters() throws {
        let tinyConfig = try String(contentsOf: tiny.appendingPathComponent("gpt/config.json"), encoding: .utf8)
        func withLabels(_ labels: String) -> String { tinyConfig.replacingOccurrences(of: "{", with: #"{"labels": "\#(labels)","#) }
        let plain = try gptFolder("plain"), labelled = try gptFolder("labelled", config: withLabels("7ABCDEFGHI"))
        let vq = tiny.appendingPathComponent("vq").path
        func generate(_ gpt: String, _ label: String, seed: Int = 0) throws -> (tokens: [Int], image: RGBImage) {
            let t = work.appendingPathComponent("t.json"), png = work.appendingPathComponent("x.png")
            let (status, stderr) = try run(["generate", "--gpt", gpt, "--vq", vq, "--class-label", label, "--seed", "\(seed)", "--quiet",
                                            "--output", png.path] + (label.count == 1 ? ["--tokens-out", t.path] : []))
            XCTAssertEqual(status, 0, stderr)
            let json = label.count == 1 ? try JSONSerialization.jsonObject(with: Data(contentsOf: t)) as? [String: Any] : nil
            return (json?["tokens"] as? [Int] ?? [], try readPNG(png.path))
        }
        XCTAssertEqual(try generate(labelled, "7").tokens, try generate(plain, "0").tokens)
        XCTAssertEqual(try generate(labelled, "B").tokens, try generate(plain, "2").tokens)
        XCTAssertEqual(try generate(labelled, "3").tokens, try generate(plain, "3").tokens)
        // "AA": two images of class A, the second with seed 1; the same as "A,A" and as the single images
        let pair = try generate(labelled, "AA"), first = try generate(labelled, "A").image, second = try generate(labelled, "A", seed: 1).image
        XCTAssertEqual(pair.image.pixels, try generate(labelled, "A, A").image.pixels)
        XCTAssertEqual(pair.image.pixels, RGBImage.grid([first, second], columns: 2, gap: max(2, first.width / 16)).pixels)
        XCTAssertNotEqual(first.pixels, second.pixels)
        try expectFailure(["generate", "--gpt", labelled, "--vq", vq, "--class-label", "a"], mentions: "--class-label 'a' is not a class of this model (its labels: 7ABCDEFGHI)")
        try expectFailure(["generate", "--gpt", plain, "--vq", vq, "--class-label", "A"], mentions: "--class-label 'A': expected a class index 0…9")
        try expectFailure(["generate", "--gpt", labelled, "--vq", vq, "--class-label", "AB", "--tokens-out", work.appendingPathComponent("t.json").path],
                          mentions: "--tokens-out applies to one image")
        try expectFailure(["generate", "--gpt", try gptFolder("short", config: withLabels("ABC")), "--vq", vq],
                          mentions: #"config.json: "labels" has 3 characters"#)
    }

    /// A model folder's generation_config.json supplies the sampling settings that no flag gives; a flag wins.
    func testGenerationConfigDefaults() throws {
        let dir = try gptFolder("withdefaults")
        let vq = tiny.appendingPathComponent("vq").path
        func tokens(_ extra: [String]) throws -> [Int] {
            let t = work.appendingPathComponent("t.json")
            let (status, stderr) = try run(["generate", "--gpt", dir, "--vq", vq, "--class-label", "3", "--quiet",
                                            "--output", work.appendingPathComponent("x.png").path, "--tokens-out", t.path] + extra)
            XCTAssertEqual(status, 0, stderr)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: t)) as? [String: Any]
            return json?["tokens"] as? [Int] ?? []
        }
        let greedy = try tokens(["--temperature", "0"]), sampled = try tokens([])
        XCTAssertNotEqual(greedy, sampled)
        try Data(#"{"temperature": 0}"#.utf8).write(to: URL(fileURLWithPath: dir).appendingPathComponent("generation_config.json"))
        XCTAssertEqual(try tokens([]), greedy)
        XCTAssertEqual(try tokens(["--temperature", "1"]), sampled)
        try Data(#"{"top_p": 2}"#.utf8).write(to: URL(fileURLWithPath: dir).appendingPathComponent("generation_config.json"))
        try expectFailure(["generate", "--gpt", dir, "--vq", vq], mentions: "generation_config.json")
    }

    func testBadInputs() throws {
        let vq = tiny.appendingPathComponent("vq").path
        let weights = try Data(contentsOf: tiny.appendingPathComponent("gpt/model.safetensors"))
        try expectFailure(["generate", "--gpt", work.appendingPathComponent("nothing").path, "--vq", vq], mentions: "config.json")
        try expectFailure(["generate", "--gpt", try gptFolder("truncated", weights: weights.prefix(weights.count / 2)), "--vq", vq],
                          mentions: "truncated")
        try expectFailure(["generate", "--gpt", try gptFolder("empty", weights: Data()), "--vq", vq], mentions: "model.safetensors")
        let wide = #"{"dim": 256, "n_layer": 2, "n_head": 2, "vocab_size": 1024, "block_size": 64, "num_classes": 10}"#
        try expectFailure(["generate", "--gpt", try gptFolder("wide", config: wide), "--vq", vq], mentions: "has shape")
        let deep = #"{"dim": 128, "n_layer": 3, "n_head": 2, "vocab_size": 1024, "block_size": 64, "num_classes": 10}"#
        try expectFailure(["generate", "--gpt", try gptFolder("deep", config: deep), "--vq", vq], mentions: "missing weight 'layers.2.")
        try expectFailure(["generate", "--class-label", "a"], mentions: "--class-label")
        try expectFailure(["generate", "--gpt", try gptFolder("indices"), "--vq", vq, "--class-label", "10"], mentions: "--class-label")
        try expectFailure(["generate", "--class-label", "AB", "--stats-out", work.appendingPathComponent("s.json").path], mentions: "--stats-out")
        try expectFailure(["generate", "--columns", "0"], mentions: "--columns")
        try expectFailure(["generate", "--schedule", "zipar-reference", "--window", "12"], mentions: "--window")
        try expectFailure(["generate", "--schedule", "raster", "--min-window", "3"], mentions: "--min-window")
        try expectFailure(["generate", "--schedule", "zipar-reference", "--window", "1"], mentions: "--window")
        try expectFailure(["generate", "--schedule", "diagonal"], mentions: "--schedule")
        try expectFailure(["generate", "--top-p", "0"], mentions: "--top-p")
        let (status, stderr) = try run(["generate", "--quiet", "--output", "/nonexistent-folder/x.png"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(stderr.contains("/nonexistent-folder"), stderr)
    }

    /// `zipar eval` scores each schedule on the same seeds; --json gives one row per schedule.
    func testEvalReportsEachSchedule() throws {
        let (status, data, _) = try runCapturing(["eval", "--per-class", "2", "--classes", "A,7", "--schedules",
                                                  "raster,zipar:12,zipar-reference:4", "--json", "--quiet"])
        XCTAssertEqual(status, 0)
        let report = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let rows = report?["rows"] as? [[String: Any]] ?? []
        XCTAssertEqual(rows.map { $0["schedule"] as? String }, ["raster", "zipar:12", "zipar-reference:4"])
        XCTAssertEqual(rows.map { $0["passes_per_image"] as? Double }, [144, 144, Double(2 * 12 + 10 * 4)])
        XCTAssertEqual(rows.map { $0["images"] as? Int }, [4, 4, 4])
        // zipar with the window = the grid width is raster order token for token: same images, same scores
        XCTAssertEqual(rows[0]["accuracy"] as? Double, rows[1]["accuracy"] as? Double)
        XCTAssertEqual(rows[0]["frechet_distance"] as? Double, rows[1]["frechet_distance"] as? Double)
        XCTAssertEqual(report?["classes"] as? String, "A,7")
    }

    func testEvalBadInputs() throws {
        let tinyModel = ["--gpt", tiny.appendingPathComponent("gpt").path, "--vq", tiny.appendingPathComponent("vq").path]
        try expectFailure(["eval", "--schedules", "raster,zipar:13"], mentions: "--schedules")
        try expectFailure(["eval", "--per-class", "0"], mentions: "--per-class")
        try expectFailure(["eval", "--classes", "a"], mentions: "--class-label")
        try expectFailure(["eval"] + tinyModel, mentions: "--classifier")
        try expectFailure(["eval", "--classifier", work.path], mentions: "config.json")
    }

    /// `zipar bench` takes every schedule kind and shows zipar-adaptive's drafts.
    func testBenchSmokeRunsEverySchedule() throws {
        let list = "raster,zipar:8,zipar:4,zipar-adaptive:8,zipar-reference:8,zipar-reference:4"
        let (status, data, stderr) = try runCapturing(["bench", "--smoke", "--schedules", list, "--warmup", "0", "--repeats", "1", "--json", "--quiet"])
        XCTAssertEqual(status, 0, String(decoding: stderr, as: UTF8.self))
        let rows = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["schedules"] as? [[String: Any]] ?? []
        XCTAssertEqual(rows.map { $0["name"] as? String }.compactMap { $0 }.joined(separator: ","), list)
        XCTAssertEqual(rows.map { ($0["drafts"] as? Int ?? -1) > 0 }, [false, false, false, true, false, false])
        try expectFailure(["bench", "--smoke", "--schedules", "raster,zipar:17"], mentions: "--schedules 'zipar:17'")
    }

    func testDecodeRejectsBadTokenFiles() throws {
        let vq = tiny.appendingPathComponent("vq").path
        let tokens = work.appendingPathComponent("t.json")
        try Data(#"{"height": 8, "width": 8, "tokens": [1, 2, 3]}"#.utf8).write(to: tokens)
        try expectFailure(["decode", "--vq", vq, "--tokens", tokens.path], mentions: "t.json")
        try Data(#"{"height": 1, "width": 2, "tokens": [1, 5000]}"#.utf8).write(to: tokens)
        try expectFailure(["decode", "--vq", vq, "--tokens", tokens.path], mentions: "5000")
    }

    func testInspectListsTensors() throws {
        let (status, out, _) = try runCapturing(["inspect", ConformanceCase.root.appendingPathComponent("c2i-pt-10x10/gpt/model.pt").path])
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertEqual(status, 0)
        XCTAssertTrue(text.contains("tok_embeddings.weight\tF32\t[1024, 128]"), text)
    }
}
