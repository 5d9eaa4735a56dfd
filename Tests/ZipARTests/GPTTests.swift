import XCTest
@testable import ZipAR

final class GPTTests: XCTestCase {
    /// Teacher-forced logits of one full forward match the reference: max |Δ| ≤ 1e-4 · max |logit|.
    func testTeacherLogitsMatchReference() throws {
        for c in try ConformanceCase.all() {
            let model = try c.gpt()
            let tokens = try c.expected.entry("teacher_tokens").floats().map { Int($0) }
            let want = try c.expected.entry("teacher_logits").floats()
            let inputs = [ModelInput(.condition(0), position: 0)] + tokens.enumerated().map { ModelInput(.token($1), position: 1 + $0) }
            let cache = model.makeCache(batch: 1)
            let got = Array(model.forward(inputs, conditions: [[c.info.class_label]], cache: cache, visibility: .staticCausal,
                                          logitsFor: Array(inputs.indices)))
            XCTAssertEqual(got.count, want.count, c.name)
            let scale = want.map(abs).max()!
            let worst = zip(got, want).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "\(c.name): max |Δ| \(worst), max |logit| \(scale)")
        }
    }

    /// The cached token-by-token decode gives the full forward's logits (tolerance 1e-4 · max |logit|:
    /// the same arithmetic, grouped differently in the matrix products).
    func testCachedDecodeEqualsFullForward() throws {
        let c = try ConformanceCase("c2i-tiny-8x8")
        let model = try c.gpt()
        let tokens = try c.expected.entry("teacher_tokens").floats().map { Int($0) }
        let inputs = [ModelInput(.condition(0), position: 0)] + tokens.enumerated().map { ModelInput(.token($1), position: 1 + $0) }
        let full = Array(model.forward(inputs, conditions: [[2], [10]], cache: model.makeCache(batch: 2),
                                       visibility: .staticCausal, logitsFor: Array(inputs.indices)))
        let cache = model.makeCache(batch: 2)
        let v = model.config.vocab_size, n = inputs.count
        var worst: Float = 0
        for (i, input) in inputs.enumerated() {
            let step = Array(model.forward([input], conditions: [[2], [10]], cache: cache, visibility: .writtenCausal, logitsFor: [0]))
            for b in 0..<2 {
                for t in 0..<v { worst = max(worst, abs(step[b * v + t] - full[(b * n + i) * v + t])) }
            }
        }
        let scale = full.map(abs).max()!
        XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "max |Δ| \(worst)")
    }

    /// Config parsing: defaults, the SwiGLU width rule and validation errors that name the field.
    func testConfigRules() throws {
        var c = GPTConfig.preset("GPT-B", imageSize: 256)!
        XCTAssertEqual(c.ffnHidden, 2048)
        XCTAssertEqual(c.gridSize, 16)
        c.ffn_dim_multiplier = 1.3
        XCTAssertEqual(c.ffnHidden, 2816)  // int(1.3 · 2048) = 2662 → next multiple of 256
        let tiny = try JSONDecoder().decode(GPTConfig.self, from: Data(#"{"dim": 128, "n_layer": 2, "n_head": 2, "vocab_size": 1024, "block_size": 64, "num_classes": 10}"#.utf8))
        XCTAssertEqual(tiny.ffnHidden, 512)
        XCTAssertEqual(tiny.classTableRows, 11)
        var bad = tiny
        bad.block_size = 60
        XCTAssertThrowsError(try bad.validate(file: "config.json")) { XCTAssertTrue("\($0)".contains("block_size")) }
    }

    /// `labels`: read from config.json, one distinct character per class or an error naming the file and
    /// the field; a label is one of its characters (case-sensitive), else a class index.
    func testConfigLabels() throws {
        func config(_ labels: String?) throws -> GPTConfig {
            let field = labels.map { #", "labels": "\#($0)""# } ?? ""
            return try JSONDecoder().decode(GPTConfig.self, from: Data(#"{"num_classes": 3\#(field)}"#.utf8))
        }
        XCTAssertNil(try config(nil).labels)
        XCTAssertEqual(try config(nil).classIndex("2"), 2)
        XCTAssertNil(try config(nil).classIndex("3"))
        let glyphs = try config("7AB")
        XCTAssertNoThrow(try glyphs.validate(file: "gpt/config.json"))
        XCTAssertEqual(["7", "A", "B", "1", "2"].map { glyphs.classIndex($0) }, [0, 1, 2, 1, 2])
        XCTAssertEqual(["a", "3", "AB", ""].map { glyphs.classIndex($0) }, [nil, nil, nil, nil])
        XCTAssertEqual((0..<3).map(glyphs.labelName), ["7", "A", "B"])
        for bad in ["AB", "ABCD", "AAB"] {
            XCTAssertThrowsError(try config(bad).validate(file: "gpt/config.json"), bad) {
                XCTAssertTrue("\($0)".hasPrefix("gpt/config.json: \"labels\""), "\($0)")
                XCTAssertTrue("\($0)".contains("num_classes 3"), "\($0)")
            }
        }
    }

    /// A weight of the wrong shape or a missing one is an error naming the key.
    func testWeightVerificationNamesTheKey() throws {
        let config = try JSONDecoder().decode(GPTConfig.self, from: Data(#"{"dim": 32, "n_layer": 1, "n_head": 2, "vocab_size": 16, "block_size": 16, "num_classes": 3}"#.utf8))
        var named = GPTWeights(randomFor: config, seed: 1).named(config)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gpt-verify-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.safetensors").path
        let i = named.firstIndex { $0.name == "layers.0.feed_forward.w2.weight" }!
        named[i].shape = [config.ffnHidden, config.dim]
        try SafetensorsWriter.write(named, to: path)
        XCTAssertThrowsError(try GPTWeights(config: config, checkpoint: Checkpoint.open(path))) {
            XCTAssertTrue("\($0)".contains("layers.0.feed_forward.w2.weight"), "\($0)")
        }
        named.remove(at: i)
        try SafetensorsWriter.write(named, to: path)
        XCTAssertThrowsError(try GPTWeights(config: config, checkpoint: Checkpoint.open(path))) {
            XCTAssertTrue("\($0)".contains("missing weight 'layers.0.feed_forward.w2.weight'"), "\($0)")
        }
    }
}
