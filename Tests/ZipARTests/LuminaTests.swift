import XCTest
@testable import ZipAR

/// Lumina-mGPT against the authors' code on the tiny cases of Fixtures/lumina: prompt ids, teacher logits,
/// every run's tokens, forward passes and images; the Chameleon VQGAN's yaml reader.
final class LuminaTests: XCTestCase {
    /// Lumina's conversation template and the tokenizer give the reference's ids; the ZipAR code's
    /// unconditional row is [<s>, <pad>, …] + header, upstream's (raster) the header alone.
    func testPromptTokens() throws {
        for c in try LuminaCase.all() {
            let model = try XCTUnwrap(try c.load().model as? LuminaModel)
            let zipar = try model.conditioning(.prompt(c.info.prompt), guidance: true, schedule: "zipar-reference")
            XCTAssertEqual(zipar.rows[0], c.info.input_ids + c.info.header, c.name)
            XCTAssertEqual(zipar.rows[1], c.info.uncond_input_ids_zipar + c.info.header, c.name)
            let raster = try model.conditioning(.prompt(c.info.prompt), guidance: true, schedule: "raster")
            XCTAssertEqual(raster.rows[1], [Int](repeating: LuminaModel.absent, count: c.info.input_ids.count) + c.info.header, c.name)
            XCTAssertEqual(zipar.layout.rowStride, c.info.width + 1, c.name)
            XCTAssertEqual([model.gridHeight, model.gridWidth], [c.info.height, c.info.width], c.name)
        }
    }

    /// One causal forward over prompt, header and the teacher tokens with their end-of-line tokens: the
    /// logits of the cells the case stores within 1e-4 of max |logit|.
    func testTeacherLogits() throws {
        for c in try LuminaCase.all() {
            let model = try c.load().model
            let tokens = try c.expected.entry("teacher_tokens").floats().map { Int($0) }
            let cells = try c.expected.entry("teacher_cells").floats().map { Int($0) }
            let want = try c.expected.entry("teacher_logits").floats()
            let layout = try model.conditioning(.prompt(c.info.prompt), guidance: false).layout
            let n = layout.conditionTokens, w = layout.width
            var inputs = (0..<n).map { ModelInput(.condition($0), position: $0) }
            var predictor: [Int] = [n - 1]  // input whose output predicts cell k
            for (k, t) in tokens.enumerated().dropLast() {
                let (r, col) = k.quotientAndRemainder(dividingBy: w)
                inputs.append(ModelInput(.token(t), position: layout.position(row: r, column: col)))
                if col == w - 1 { inputs.append(ModelInput(.lineEnd, position: layout.lineEndPosition(row: r))) }
                predictor.append(inputs.count - 1)
            }
            let cache = model.makeCache(batch: 1, slots: layout.slots)
            let got = Array(model.forward(inputs, conditions: [c.info.input_ids + c.info.header], cache: cache,
                                          visibility: .writtenCausal, logitsFor: cells.map { predictor[$0] }))
            XCTAssertEqual(got.count, want.count, c.name)
            let scale = want.map { abs($0) }.max()!, worst = zip(got, want).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "\(c.name): max |Δ| \(worst), max |logit| \(scale)")
        }
    }

    /// `--score`'s teacher forcing feeds the end-of-line tokens too: its NLL is the mean over cells of the
    /// teacher logits' −log softmax at the token (the logits `testTeacherLogits` checks against the reference).
    func testTeacherForcedNLLFeedsLineEnds() throws {
        let c = try LuminaCase("lumina-4x4")
        let model = try c.load().model
        let tokens = try c.expected.entry("teacher_tokens").floats().map { Int($0) }
        let layout = try model.conditioning(.prompt(c.info.prompt), guidance: false).layout
        var inputs = (0..<layout.conditionTokens).map { ModelInput(.condition($0), position: $0) }
        var predictor = [layout.conditionTokens - 1]
        for (k, t) in tokens.enumerated().dropLast() {
            let (r, col) = k.quotientAndRemainder(dividingBy: layout.width)
            inputs.append(ModelInput(.token(t), position: layout.position(row: r, column: col)))
            if col == layout.width - 1 { inputs.append(ModelInput(.lineEnd, position: layout.lineEndPosition(row: r))) }
            predictor.append(inputs.count - 1)
        }
        let logits = Array(model.forward(inputs, conditions: [c.info.input_ids + c.info.header], cache: model.makeCache(batch: 1, slots: layout.slots),
                                         visibility: .writtenCausal, logitsFor: predictor))
        let vocab = model.imageVocabulary
        let want = tokens.enumerated().map { k, t -> Double in
            let row = logits[k * vocab..<(k + 1) * vocab], top = row.max()!
            return log(row.reduce(0.0) { $0 + exp(Double($1 - top)) }) + Double(top) - Double(row[row.startIndex + t])
        }.reduce(0, +) / Double(tokens.count)
        let got = try ImageGenerator(model: model).teacherForcedNLL(
            tokens: tokens, options: GenerationOptions(condition: .prompt(c.info.prompt), cfgScale: 1))
        XCTAssertEqual(got, want, accuracy: 1e-4 * max(1, abs(want)))
    }

    /// Every run: tokens exact, the reference's pass count, the image within the conformance tolerance
    /// (floats within 1e-3 of the reference decoder's; PNG channels within 2, at most 0.5 % off by more than 1).
    func testRunsMatchTheReferences() throws {
        for c in try LuminaCase.all() {
            let loaded = try c.load()
            let generator = ImageGenerator(model: loaded.model)
            for run in c.info.runs {
                let label = "\(c.name)/\(run.key)"
                let result = try generator.generate(try c.spec(run, width: loaded.model.gridWidth), options: c.options(run))
                XCTAssertEqual(result.tokens, run.tokens, label)
                XCTAssertEqual(result.stats.forward_passes, run.forward_passes, label)
                let image = try loaded.decoder.decode(tokens: run.tokens, height: c.info.height, width: c.info.width)
                try assertImageMatches(image, want: try c.expected.entry("\(run.key)_image").floats(),
                                       png: c.directory.appendingPathComponent(run.image).path, mapping: loaded.pixelMapping, label)
            }
        }
    }

    /// The paper's schedules on the line-end layout: zipar feeds each end-of-line token at its own position
    /// and takes W + (H − 1)·window image passes (plus the 3 passes before the first image token); at
    /// window W it is raster order with the end-of-line token fed beside the row's last token, and gives
    /// raster's tokens when both use the same unconditional row (guidance off).
    func testZipARPassCountsOnTheLineEndLayout() throws {
        let c = try LuminaCase("lumina-6x6")
        let loaded = try c.load(), generator = ImageGenerator(model: loaded.model)
        let options = GenerationOptions(condition: .prompt(c.info.prompt), cfgScale: 1, sampling: SamplingOptions(temperature: 0))
        let (h, w) = (c.info.height, c.info.width)
        for window in [1, 2, 4] {
            let r = try generator.generate(.zipar(window: window, rowStart: .placeholder), options: options)
            XCTAssertEqual(r.stats.forward_passes, 3 + w + (h - 1) * window, "window \(window)")
        }
        let raster = try generator.generate(.raster, options: options)
        let full = try generator.generate(.zipar(window: w, rowStart: .placeholder), options: options)
        XCTAssertEqual(full.tokens, raster.tokens)
        XCTAssertEqual(raster.stats.forward_passes, 3 + h * w + h - 1)
        XCTAssertEqual(full.stats.forward_passes, 3 + h * w)
        let adaptive = try generator.generate(.ziparAdaptive(minWindow: 2, rowStart: .placeholder), options: options)
        XCTAssertEqual(adaptive.tokens.count, h * w)
    }

    /// The released code's window range on a W-wide grid is 2 … W + 1.
    func testReferenceWindowRange() throws {
        XCTAssertEqual(LineEndReferenceSchedule.validWindows(width: 48), 2...49)
        XCTAssertThrowsError(try ScheduleSpec.make(name: "zipar-reference", width: 4, window: 6, lineEnd: true))
        XCTAssertThrowsError(try ScheduleSpec.make(name: "zipar-reference", width: 4, window: 1, lineEnd: true))
        XCTAssertEqual(try ScheduleSpec.make(name: "zipar-reference", width: 4, window: 5, lineEnd: true), .ziparReference(window: 5))
    }

    /// The YAML subset of vqgan.yaml: nesting, block and flow sequences, comments, quotes; bad input named by line.
    func testMiniYAML() throws {
        let v = try MiniYAML.parse("""
        model:  # the model
          target: "taming.models.vqgan.VQModel"
          params:
            ch_mult:
            - 1
            - 2
            attn_resolutions: []
            sizes: [16, 32]
            loss: {disc_start: 20001, codebook_weight: 1.0}
            empty:
        """, file: "t.yaml")
        XCTAssertEqual(v["model"]?["params"]?["loss"]?["disc_start"], .scalar("20001"))
        XCTAssertEqual(v["model"]?["target"], .scalar("taming.models.vqgan.VQModel"))
        XCTAssertEqual(v["model"]?["params"]?["ch_mult"], .sequence([.scalar("1"), .scalar("2")]))
        XCTAssertEqual(v["model"]?["params"]?["attn_resolutions"], .sequence([]))
        XCTAssertEqual(v["model"]?["params"]?["sizes"], .sequence([.scalar("16"), .scalar("32")]))
        XCTAssertEqual(v["model"]?["params"]?["empty"], .scalar("null"))
        for bad in ["a: 1\n  b: 2", "a: &x 1", "a: 1\na: 2", "a:\n\t- 1", "- a: 1", "a: {b: [1]}", "a: {b"] {
            XCTAssertThrowsError(try MiniYAML.parse(bad, file: "t.yaml")) { error in
                XCTAssertTrue("\(error)".contains("t.yaml"), "\(error)")
            }
        }
    }
}
