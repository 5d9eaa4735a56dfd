import XCTest
@testable import ZipAR

/// Emu3 against transformers' `Emu3ForConditionalGeneration` on the tiny cases of Fixtures/emu3: prompt
/// ids, every run's tokens and pass count (raster: `generate` with the prefix constraint and the negative
/// prompt; zipar: the same model called pass by pass), each pass's logits of both branches, both key
/// layouts; the 90×90 pass counts of Emu3-Gen.
final class Emu3Tests: XCTestCase {
    /// BOS + prompt + <|image start|>H*W<|image token|> for both branches; the shorter row is left-padded
    /// with absent tokens to the longer one's length.
    func testPromptTokens() throws {
        for c in try Emu3Case.all() {
            let model = try c.load()
            let rows = try model.conditioning(.prompt(c.info.prompt), guidance: true).rows
            XCTAssertEqual(rows[0].filter { $0 != Emu3Model.absent }, c.info.input_ids, c.name)
            XCTAssertEqual(rows[1].filter { $0 != Emu3Model.absent }, c.info.negative_input_ids, c.name)
            XCTAssertEqual(rows[0].count, max(c.info.input_ids.count, c.info.negative_input_ids.count), c.name)
            let layout = try model.conditioning(.prompt(c.info.prompt), guidance: false).layout
            XCTAssertEqual(layout.rowStride, c.info.width + 1, c.name)
            XCTAssertEqual([model.gridHeight, model.gridWidth], [c.info.height, c.info.width], c.name)
        }
    }

    /// The cases cover both key layouts, a negative prompt longer and one shorter than the prompt.
    func testCasesCoverBothKeyLayoutsAndPaddings() throws {
        let cases = try Emu3Case.all()
        XCTAssertEqual(Set(try cases.map { try $0.load().weights.layout == .modelFirst }), [true, false])
        XCTAssertEqual(Set(cases.map { $0.info.input_ids.count < $0.info.negative_input_ids.count }), [true, false])
        XCTAssertEqual(Set(cases.map { $0.info.height == $0.info.width }), [true, false])
    }

    /// Every run: tokens exact (VQ codes, raster order, no EOL), the pass count.
    func testRunsMatchTransformers() throws {
        for c in try Emu3Case.all() {
            let generator = ImageGenerator(model: try c.load())
            for run in c.info.runs {
                let label = "\(c.name)/\(run.key)"
                let result = try generator.generate(try c.spec(run), options: c.options(run))
                XCTAssertEqual(result.tokens, run.tokens, label)
                XCTAssertEqual(result.stats.forward_passes, run.forward_passes, label)
            }
        }
    }

    /// The negative prompt given per image (`GenerationOptions.negativePrompt`, what the server's
    /// `negative_prompt` sets) on a model left with Emu3's default: the same tokens as transformers with that
    /// negative prompt, for every run; a model without one refuses it.
    func testNegativePromptPerImageMatchesTransformers() throws {
        var guided = 0
        for c in try Emu3Case.all() {
            let model = try Emu3Model.load(directory: c.modelDirectory, height: c.info.height, width: c.info.width).model
            let generator = ImageGenerator(model: model)
            for run in c.info.runs {
                var options = c.options(run)
                options.negativePrompt = c.info.negative_prompt ?? Emu3Prompt.defaultNegative
                let result = try generator.generate(try c.spec(run), options: options)
                XCTAssertEqual(result.tokens, run.tokens, "\(c.name)/\(run.key)")
                if run.cfg_scale > 1, c.info.negative_prompt != nil { guided += 1 }
            }
        }
        XCTAssertGreaterThan(guided, 0, "some run is guided by a negative prompt other than the default")
        let gpt = ImageGenerator(model: try ConformanceCase("c2i-tiny-8x8").gpt())
        XCTAssertThrowsError(try gpt.generate(.raster, options: GenerationOptions(condition: .classLabel(1), negativePrompt: "blurry"))) {
            XCTAssertEqual($0 as? GenerationError, .noNegativePrompt)
        }
    }

    /// Every run's image, frame 0 decoded alone, against transformers' `decode_image_tokens` (all frames
    /// decoded, frame 0 returned): floats within 1e-3, the PNG of Emu3's postprocess within the
    /// conformance tolerance.
    func testImagesMatchTransformers() throws {
        for c in try Emu3Case.all() {
            let decoder = try c.loadWithDecoder().decoder
            for run in c.info.runs {
                let image = try decoder.decode(tokens: run.tokens, height: c.info.height, width: c.info.width)
                XCTAssertEqual([image.height, image.width], [c.info.height * decoder.downsample, c.info.width * decoder.downsample])
                try assertImageMatches(image, want: try c.expected.entry("\(run.key)_image").floats(),
                                       png: c.directory.appendingPathComponent(run.image).path, mapping: .clipTruncate, "\(c.name)/\(run.key)")
            }
        }
    }

    /// zipar-adaptive runs on the line-end layout (no reference exists: it completes the grid, and with
    /// every draft rejected it gives raster's tokens).
    func testZipARAdaptiveCompletes() throws {
        let c = try Emu3Case("emu3-4x4")
        let generator = ImageGenerator(model: try c.load())
        let options = GenerationOptions(condition: .prompt(c.info.prompt), cfgScale: 3, sampling: SamplingOptions(temperature: 0))
        let adaptive = try generator.generate(.ziparAdaptive(minWindow: 2, rowStart: .placeholder), options: options)
        XCTAssertEqual(adaptive.tokens.count, c.info.height * c.info.width)
        generator.rejectAllDrafts = true
        let rejected = try generator.generate(.ziparAdaptive(minWindow: 2, rowStart: .placeholder), options: options)
        XCTAssertEqual(rejected.tokens, try generator.generate(.raster, options: options).tokens)
    }

    /// Teacher forcing each run's schedule on its tokens: every cell's logits, conditional and (with
    /// guidance) unconditional branch, within 1e-4 of max |logit| of transformers' for the same pass.
    func testPerPassLogits() throws {
        for c in try Emu3Case.all() {
            let model = try c.load()
            for run in c.info.runs {
                let label = "\(c.name)/\(run.key)"
                let got = try replay(model, spec: try c.spec(run), guidance: run.cfg_scale > 1, prompt: c.info.prompt, tokens: run.tokens)
                for (branch, values) in got.enumerated() {
                    let want = try c.expected.entry("\(run.key)_\(branch == 0 ? "cond" : "uncond")_logits").floats()
                    XCTAssertEqual(values.count, want.count, label)
                    let scale = want.map { abs($0) }.max()!, worst = zip(values, want).map { abs($0 - $1) }.max()!
                    XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "\(label) branch \(branch): max |Δ| \(worst), max |logit| \(scale)")
                }
            }
        }
    }

    /// Emu3-Gen's 90×90 grid with line ends: zipar at window 7 takes 713 passes (the paper's figure: 90 +
    /// 89·7, prefill included); raster 8189 (every cell, plus one pass per row boundary feeding the row's
    /// last token; transformers' generate makes 8190 forwards for the 8190 visual and EOL tokens, the last
    /// of which only yields the final EOL); zipar at window 90 90·90.
    func testPassCountsAt90x90() {
        let layout = SequenceLayout(conditionTokens: 23, height: 90, width: 90, lineEnd: true)
        func passes(_ spec: ScheduleSpec) -> Int {
            var schedule = spec.schedule(layout: layout)
            var grid = TokenGrid(height: 90, width: 90), count = 0
            while let pass = schedule.nextPass(grid) {
                for p in pass.predictions { grid[p.cell] = 0 }
                schedule.passDidFinish(pass, grid: grid)
                count += 1
            }
            return count
        }
        XCTAssertEqual(passes(.zipar(window: 7, rowStart: .placeholder)), 713)
        XCTAssertEqual(passes(.raster), 8189)
        XCTAssertEqual(passes(.zipar(window: 90, rowStart: .placeholder)), 8100)
    }

    /// A bad folder: one error naming the file and what is wrong.
    func testBadFolders() throws {
        let c = try Emu3Case("emu3-3x4")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emu3-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = URL(fileURLWithPath: c.modelDirectory)
        for file in ["config.json", "model.safetensors", "preprocessor_config.json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        XCTAssertThrowsError(try Emu3Model.load(directory: dir.path, height: 3, width: 4)) { error in
            XCTAssertTrue("\(error)".contains("tokenizer.json"), "\(error)")
        }
        try FileManager.default.copyItem(at: source.appendingPathComponent("tokenizer.json"), to: dir.appendingPathComponent("tokenizer.json"))
        XCTAssertNoThrow(try Emu3Model.load(directory: dir.path, height: 3, width: 4))
        let processor = dir.appendingPathComponent("preprocessor_config.json")
        let goodProcessor = try Data(contentsOf: processor)
        try Data(#"{"image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.5, 0.5, 0.5]}"#.utf8).write(to: processor)
        XCTAssertThrowsError(try Emu3Model.load(directory: dir.path, height: 3, width: 4)) { error in
            XCTAssertTrue("\(error)".contains("preprocessor_config.json") && "\(error)".contains("image_mean"), "\(error)")
        }
        try goodProcessor.write(to: processor)
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as! [String: Any]
        var map = config["vocabulary_map"] as! [String: Int]
        map["<|extra_200|>"] = nil
        config["vocabulary_map"] = map
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try Emu3Model.load(directory: dir.path, height: 3, width: 4)) { error in
            XCTAssertTrue("\(error)".contains("config.json") && "\(error)".contains("<|extra_200|>"), "\(error)")
        }
        config["model_type"] = "llama"
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try Emu3Model.load(directory: dir.path, height: 3, width: 4)) { error in
            XCTAssertTrue("\(error)".contains("not an Emu3 model"), "\(error)")
        }
    }

    /// Runs `spec`'s passes feeding `tokens` (teacher forcing) and returns each cell's logits per branch
    /// (conditional, then unconditional with guidance), raster order.
    private func replay(_ model: Emu3Model, spec: ScheduleSpec, guidance: Bool, prompt: String, tokens: [Int]) throws -> [[Float]] {
        let conditioning = try model.conditioning(.prompt(prompt), guidance: guidance)
        let layout = conditioning.layout, rows = conditioning.rows, vocab = model.imageVocabulary
        var schedule = spec.schedule(layout: layout)
        var grid = TokenGrid(height: layout.height, width: layout.width)
        let cache = model.makeCache(batch: rows.count, slots: layout.slots)
        var out = [[Float]](repeating: [Float](repeating: .nan, count: tokens.count * vocab), count: rows.count)
        while let pass = schedule.nextPass(grid) {
            let n = pass.inputs.count
            let batch = rows.indices.flatMap { r in pass.inputs.map { BatchInput($0, row: r, visibility: pass.visibility) } }
            let logitsFor = pass.predictions.flatMap { p in rows.indices.map { $0 * n + p.input } }
            let logits = model.forward(batch: batch, conditions: rows, cache: cache, logitsFor: logitsFor)
            for (j, p) in pass.predictions.enumerated() {
                for r in rows.indices {
                    let start = (j * rows.count + r) * vocab
                    out[r].replaceSubrange(p.cell * vocab..<(p.cell + 1) * vocab, with: logits[start..<start + vocab])
                }
                grid[p.cell] = tokens[p.cell]
            }
            schedule.passDidFinish(pass, grid: grid)
        }
        return out
    }
}
