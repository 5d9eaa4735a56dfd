import Foundation
import XCTest
@testable import ZipAR

/// `zipar generate --model DIR --vq VQGAN_DIR --prompt TEXT --image-size PX` on the tiny Lumina case, and
/// bad input (one line naming the file, key or flag; non-zero exit; no PNG).
extension CLITests {
    var luminaModel: URL { LuminaCase.root.appendingPathComponent("model") }
    var luminaVQ: URL { LuminaCase.root.appendingPathComponent("vqgan") }

    /// A copy of the VQGAN folder with `edit` applied to the copy.
    func luminaVQFolder(_ name: String, edit: (URL) throws -> Void) throws -> String {
        let dir = work.appendingPathComponent(name)
        try FileManager.default.copyItem(at: luminaVQ, to: dir)
        try edit(dir)
        return dir.path
    }

    /// The tokens, pass count and image of a reference run through the command line.
    func testLuminaGenerate() throws {
        let c = try LuminaCase("lumina-4x4")
        let want = try XCTUnwrap(c.info.runs.first { $0.schedule == "zipar-reference" && $0.window == 3 && $0.cfg_scale == 3 })
        let out = work.appendingPathComponent("l.png"), tokens = work.appendingPathComponent("t.json"), stats = work.appendingPathComponent("s.json")
        let (status, stderr) = try run(["generate", "--model", luminaModel.path, "--vq", luminaVQ.path, "--prompt", c.info.prompt,
                                        "--image-size", "64", "--cfg-scale", "3", "--temperature", "0", "--schedule", "zipar-reference",
                                        "--window", "3", "--quiet", "--output", out.path, "--tokens-out", tokens.path, "--stats-out", stats.path])
        XCTAssertEqual(status, 0, stderr)
        let file = try JSONDecoder().decode(TokenFile.self, from: Data(contentsOf: tokens))
        XCTAssertEqual(file.tokens, want.tokens)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: stats)) as? [String: Any]
        XCTAssertEqual(json?["forward_passes"] as? Int, want.forward_passes)
        XCTAssertEqual(try readPNG(out.path).pixels, try readPNG(c.directory.appendingPathComponent(want.image).path).pixels)
    }

    func testLuminaBadInputs() throws {
        let ok = ["--model", luminaModel.path, "--prompt", "a red fox", "--image-size", "64"]
        let noCkpt = try luminaVQFolder("no-ckpt") { try FileManager.default.removeItem(at: $0.appendingPathComponent("vqgan.ckpt")) }
        try expectFailure(["generate", "--vq", noCkpt] + ok, mentions: "vqgan.ckpt: missing")
        let truncated = try luminaVQFolder("truncated") { dir in
            let file = dir.appendingPathComponent("vqgan.ckpt"), data = try Data(contentsOf: file)
            try data.prefix(data.count / 2).write(to: file)
        }
        try expectFailure(["generate", "--vq", truncated] + ok, mentions: "vqgan.ckpt: truncated")
        func yaml(_ name: String, _ old: String, _ new: String) throws -> String {
            try luminaVQFolder(name) { dir in
                let file = dir.appendingPathComponent("vqgan.yaml")
                let text = try String(contentsOf: file, encoding: .utf8)
                XCTAssertTrue(text.contains(old))
                try Data(text.replacingOccurrences(of: old, with: new).utf8).write(to: file)
            }
        }
        try expectFailure(["generate", "--vq", try yaml("codes", "n_embed: 8192", "n_embed: 4096")] + ok,
                          mentions: "vqgan.yaml: model.params.n_embed 4096 does not describe the checkpoint")
        try expectFailure(["generate", "--vq", try yaml("width", "      - 2", "      - 4")] + ok,
                          mentions: "vqgan.yaml: model.params.ddconfig.ch × ch_mult[2] 128 does not describe the checkpoint")
        try expectFailure(["generate", "--vq", try yaml("blocks", "num_res_blocks: 1", "num_res_blocks: 2")] + ok,
                          mentions: "do not describe the checkpoint: it has no 'decoder.up.0.block.2.conv1.weight'")
        try expectFailure(["generate", "--vq", try yaml("nokey", "    n_embed: 8192\n", "")] + ok,
                          mentions: "vqgan.yaml: key 'model.params.n_embed' is missing")
        try expectFailure(["generate", "--vq", try yaml("anchor", "ch: 32", "ch: &c 32")] + ok, mentions: "vqgan.yaml: line")
        let vq = ["--vq", luminaVQ.path]
        try expectFailure(["generate", "--model", luminaModel.path, "--prompt", "x", "--image-size", "100"] + vq,
                          mentions: "image size 100 (--image-size) is not a positive multiple of 32")
        try expectFailure(["generate", "--model", luminaModel.path, "--prompt", "x", "--image-size", "4096"] + vq,
                          mentions: "needs the size token <reserved08928>")
        try expectFailure(["generate", "--schedule", "zipar-reference", "--window", "6"] + ok + vq,
                          mentions: "--window: window 6 is outside 2…5 for zipar-reference")
        try expectFailure(["generate", "--schedule", "zipar-reference", "--window", "1"] + ok + vq, mentions: "--window: window 1 is outside")
        try expectFailure(["generate"] + ok, mentions: "needs the Chameleon VQGAN folder")
        try expectFailure(["generate", "--vq-model", "VQ-16"] + ok, mentions: "drop --vq-model")
    }
}
