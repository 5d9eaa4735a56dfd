import Foundation
import XCTest
@testable import ZipAR

/// `zipar generate --model DIR --prompt TEXT --negative-prompt TEXT --image-size WxH` on the tiny Emu3
/// cases, and bad input (one line naming the file, key or flag; non-zero exit; no PNG).
extension CLITests {
    /// Every run of a non-square case through the command line: tokens, pass count and PNG as transformers'.
    func testEmu3Generate() throws {
        for name in ["emu3-3x4", "emu3-4x4"] {
            let c = try Emu3Case(name)
            let f = try c.loadWithDecoder().decoder.downsample
            for run in c.info.runs {
                let out = work.appendingPathComponent("e.png"), tokens = work.appendingPathComponent("t.json")
                let stats = work.appendingPathComponent("s.json")
                var args = ["generate", "--model", c.modelDirectory, "--prompt", c.info.prompt,
                            "--image-size", "\(c.info.width * f)x\(c.info.height * f)", "--cfg-scale", String(run.cfg_scale),
                            "--temperature", "0", "--seed", "0", "--schedule", run.schedule, "--quiet",
                            "--output", out.path, "--tokens-out", tokens.path, "--stats-out", stats.path]
                if run.schedule == "zipar" { args += ["--window", String(run.window)] }
                if let negative = c.info.negative_prompt { args += ["--negative-prompt", negative] }
                let (status, stderr) = try self.run(args)
                XCTAssertEqual(status, 0, stderr)
                let file = try JSONDecoder().decode(TokenFile.self, from: Data(contentsOf: tokens))
                XCTAssertEqual(file.tokens, run.tokens, "\(name)/\(run.key)")
                XCTAssertEqual([file.height, file.width], [c.info.height, c.info.width])
                let json = try JSONSerialization.jsonObject(with: Data(contentsOf: stats)) as? [String: Any]
                XCTAssertEqual(json?["forward_passes"] as? Int, run.forward_passes, "\(name)/\(run.key)")
                let got = try readPNG(out.path).pixels, want = try readPNG(c.directory.appendingPathComponent(run.image).path).pixels
                XCTAssertEqual(got.count, want.count)
                XCTAssertLessThanOrEqual(zip(got, want).map { abs(Int($0) - Int($1)) }.max() ?? 0, 2, "\(name)/\(run.key) PNG")
            }
        }
    }

    func testEmu3BadInputs() throws {
        let c = try Emu3Case("emu3-3x4")
        let ok = ["--model", c.modelDirectory, "--prompt", "a red fox", "--temperature", "0"]
        try expectFailure(["generate", "--image-size", "9x6"] + ok, mentions: "image size 9x6 (--image-size) has no token grid")
        try expectFailure(["generate", "--image-size", "4096"] + ok, mentions: "leaves no room for a prompt")
        try expectFailure(["generate", "--image-size", "8x6", "--schedule", "zipar", "--window", "5"] + ok,
                          mentions: "--window: window 5 is outside 1…4 for zipar")
        try expectFailure(["generate", "--image-size", "8x6", "--vq", c.modelDirectory] + ok, mentions: "holds its own image decoder")
        try expectFailure(["generate", "--negative-prompt", "blurry"], mentions: "--negative-prompt needs --prompt")
        let badVQ = work.appendingPathComponent("bad-vq")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: c.modelDirectory), to: badVQ)
        let weights = try Checkpoint.open(badVQ.appendingPathComponent("model.safetensors").path)
        XCTAssertNotNil(weights.tensors["vqmodel.decoder.conv_out.weight"])
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: badVQ.appendingPathComponent("config.json"))) as! [String: Any]
        var vq = config["vq_config"] as! [String: Any]
        let blocks = vq["num_res_blocks"] as! Int
        vq["num_res_blocks"] = blocks + 1
        config["vq_config"] = vq
        try JSONSerialization.data(withJSONObject: config).write(to: badVQ.appendingPathComponent("config.json"))
        try expectFailure(["generate", "--image-size", "8x6", "--model", badVQ.path, "--prompt", "x"],
                          mentions: "missing weight 'vqmodel.decoder.time_res_stack.\(blocks).norm1.weight'")
    }

    /// --negative-prompt and WxH belong to Emu3: other families say so.
    func testNegativePromptAndNonSquareSizeAreEmu3Only() throws {
        let lumina = LuminaCase.root.appendingPathComponent("model").path, vq = LuminaCase.root.appendingPathComponent("vqgan").path
        try expectFailure(["generate", "--model", lumina, "--vq", vq, "--prompt", "x", "--image-size", "64", "--negative-prompt", "y"],
                          mentions: "--negative-prompt applies to Emu3 models; this is a lumina model")
        try expectFailure(["generate", "--model", lumina, "--vq", vq, "--prompt", "x", "--image-size", "64x32"],
                          mentions: "Lumina-mGPT draws square images")
        try expectFailure(["generate", "--gpt-model", "GPT-B", "--random-weights", "1", "--image-size", "256x128"],
                          mentions: "--image-size 256x128: this model draws square images")
    }
}
