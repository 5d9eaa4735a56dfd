import Foundation
import XCTest
@testable import ZipAR

/// `zipar generate --model DIR --prompt TEXT` on the tiny Janus cases: prompt grids, sharded weight
/// folders, and bad input (one line, non-zero exit, no PNG).
extension CLITests {
    var janus: URL { JanusCase.root.appendingPathComponent("janus-4x4-mha/model") }

    /// A copy of the 4×4 Janus model folder, with `edit` applied to the copy.
    func janusFolder(_ name: String, edit: (URL) throws -> Void = { _ in }) throws -> String {
        let dir = work.appendingPathComponent(name)
        try FileManager.default.copyItem(at: janus, to: dir)
        try edit(dir)
        return dir.path
    }

    func generatePNG(_ args: [String]) throws -> RGBImage {
        let png = work.appendingPathComponent("p-\(UUID()).png")
        let (status, stderr) = try run(["generate", "--temperature", "0", "--quiet", "--output", png.path] + args)
        XCTAssertEqual(status, 0, stderr)
        return try readPNG(png.path)
    }

    /// Several prompts give a grid of one image each (seeds --seed, --seed+1, …); an empty prompt is allowed.
    func testJanusPromptGrid() throws {
        let grid = try generatePNG(["--model", janus.path, "--prompt", "a red fox in the snow", "--prompt", "a blue bird"])
        let fox = try generatePNG(["--model", janus.path, "--prompt", "a red fox in the snow"])
        let bird = try generatePNG(["--model", janus.path, "--prompt", "a blue bird", "--seed", "1"])
        XCTAssertEqual(grid.pixels, RGBImage.grid([fox, bird], columns: 2, gap: 2).pixels)
        XCTAssertEqual([fox.width, fox.height], [8, 8])
        XCTAssertEqual(try generatePNG(["--model", janus.path, "--prompt", ""]).width, 8)
    }

    /// The same weights as shards behind model.safetensors.index.json, or a .bin behind
    /// pytorch_model.bin.index.json, give the same image as the single file.
    func testJanusShardedFolders() throws {
        let single = try generatePNG(["--model", janus.path, "--prompt", "a red fox in the snow"])
        let sharded = try janusFolder("sharded") { dir in
            let ck = try Checkpoint.open(dir.appendingPathComponent("model.safetensors").path)
            let names = ck.names, half = names.count / 2
            var map: [String: String] = [:]
            for (k, part) in [names[..<half], names[half...]].enumerated() {
                let file = "model-0000\(k + 1)-of-00002.safetensors"
                try SafetensorsWriter.write(part.map { ($0, ck.tensors[$0]!.shape, ck.tensors[$0]!.floats()) },
                                            to: dir.appendingPathComponent(file).path)
                for n in part { map[n] = file }
            }
            try FileManager.default.removeItem(at: dir.appendingPathComponent("model.safetensors"))
            try JSONSerialization.data(withJSONObject: ["metadata": [:], "weight_map": map])
                .write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        }
        XCTAssertEqual(try generatePNG(["--model", sharded, "--prompt", "a red fox in the snow"]).pixels, single.pixels)

        let deepseek = JanusCase.root.appendingPathComponent("janus-deepseek-6x6/model")
        let indexed = work.appendingPathComponent("indexed-bin")
        try FileManager.default.copyItem(at: deepseek, to: indexed)
        let names = try Checkpoint.open(indexed.appendingPathComponent("pytorch_model.bin").path).names
        try JSONSerialization.data(withJSONObject: ["weight_map": Dictionary(uniqueKeysWithValues: names.map { ($0, "pytorch_model.bin") })])
            .write(to: indexed.appendingPathComponent("pytorch_model.bin.index.json"))
        let args = ["--prompt", "a cat sitting on a windowsill", "--image-size", "96"]
        XCTAssertEqual(try generatePNG(["--model", indexed.path] + args).pixels, try generatePNG(["--model", deepseek.path] + args).pixels)
    }

    func testJanusBadInputs() throws {
        let ok = ["--prompt", "a red fox"]
        try expectFailure(["generate", "--model", try janusFolder("notok") { try FileManager.default.removeItem(at: $0.appendingPathComponent("tokenizer.json")) }] + ok,
                          mentions: "no tokenizer.json")
        let unigram = try janusFolder("unigram") { dir in
            let file = dir.appendingPathComponent("tokenizer.json")
            let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: #""type": "BPE""#, with: #""type": "Unigram""#)
            try Data(text.utf8).write(to: file)
        }
        try expectFailure(["generate", "--model", unigram] + ok, mentions: "tokenizer.json: unknown model type 'Unigram'")
        let missingShard = try janusFolder("missing-shard") { dir in
            try FileManager.default.moveItem(at: dir.appendingPathComponent("model.safetensors"), to: dir.appendingPathComponent("model-00001-of-00002.safetensors"))
            try Data(#"{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}"#.utf8)
                .write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        }
        try expectFailure(["generate", "--model", missingShard] + ok, mentions: "shard 'model-00002-of-00002.safetensors' named in the index is missing")
        let truncated = try janusFolder("truncated") { dir in
            let file = dir.appendingPathComponent("model.safetensors"), data = try Data(contentsOf: file)
            try data.prefix(data.count * 2 / 3).write(to: file)
        }
        try expectFailure(["generate", "--model", truncated] + ok, mentions: "truncated")
        func editConfig(_ name: String, _ change: @escaping (inout [String: Any]) -> Void) throws -> String {
            try janusFolder(name) { dir in
                let file = dir.appendingPathComponent("config.json")
                var json = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [String: Any]
                change(&json)
                try JSONSerialization.data(withJSONObject: json).write(to: file)
            }
        }
        try expectFailure(["generate", "--model", try editConfig("unknown") { $0["model_type"] = "emu9" }] + ok, mentions: "model_type 'emu9'")
        let short = try editConfig("short") { json in
            var text = json["text_config"] as! [String: Any]
            text["max_position_embeddings"] = 30
            json["text_config"] = text
        }
        try expectFailure(["generate", "--model", short, "--prompt", "a red fox in the snow"], mentions: "the prompt is 20 tokens, more than the 14")
        try expectFailure(["generate", "--model", janus.path, "--class-label", "3"], mentions: "--class-label")
        try expectFailure(["generate", "--model", janus.path], mentions: "--prompt")
        try expectFailure(["generate", "--prompt", "a red fox", "--gpt-model", "GPT-B"], mentions: "--prompt needs a text-to-image model")
        try expectFailure(["generate", "--model", janus.path, "--vq", tiny.appendingPathComponent("vq").path] + ok, mentions: "own image decoder")
        try expectFailure(["generate", "--model", janus.path, "--image-size", "13"] + ok, mentions: "image size 13")
        try expectFailure(["generate", "--model", work.appendingPathComponent("none").path] + ok, mentions: "not a folder")
    }
}
