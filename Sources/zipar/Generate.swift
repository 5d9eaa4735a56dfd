import ArgumentParser
import Foundation
import ZipAR

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate images from class labels or prompts and write them as PNG.",
        discussion: """
        With no model arguments the embedded default model is used: a small LlamaGen trained on glyphs, which \
        draws the characters 0-9 and A-Z at 48×48 pixels (--class-label ZIPAR draws five). Released LlamaGen \
        checkpoints: --gpt-model GPT-B --gpt-ckpt c2i_B_256.pt --image-size 256 --vq-model VQ-16 \
        --vq-ckpt vq_ds16_c2i.pt. Text-to-image: --model DIR --prompt TEXT with a Janus-Pro folder \
        (deepseek-ai/Janus-Pro-1B or -7B as downloaded, or transformers' layout). Sampling flags not given \
        take the model folder's generation_config.json, else the family's defaults (LlamaGen: CFG 4, \
        temperature 1, top-k 2000, top-p 1; Janus-Pro: CFG 5, temperature 1, no top-k or top-p).
        """)

    @OptionGroup(title: "Model") var gpt: GPTOptions
    @OptionGroup(title: "VQ decoder") var vq: VQOptions
    @OptionGroup(title: "Sampling") var samplingFlags: SamplingFlags

    @Option(name: .customLong("class-label"), help: ArgumentHelp("""
        What to draw with a class model (default 0). A model whose config.json names its classes ("labels"; the glyph model: 0-9, A-Z) takes \
        characters, case-sensitive, every character one label (ZIPAR, or Z,I,P,A,R; commas and spaces \
        separate); a single digit that is not one of its labels is read as a class index. Other models take \
        class indices 0 … num_classes−1, several separated by commas (3,207). Several labels give one image \
        each (seeds --seed, --seed+1, …) side by side in the --output PNG; --tokens-out, --stats-out and \
        --score need a single label.
        """, valueName: "labels"))
    var classLabel: String?

    @Option(help: ArgumentHelp("""
        What to draw with a text-to-image --model: a prompt in words. Repeat the flag for several images \
        (seeds --seed, --seed+1, …), side by side in the --output PNG. Janus-Pro wraps it in its chat \
        template; an empty prompt leaves the template alone (an image conditioned on no words).
        """, valueName: "text"))
    var prompt: [String] = []

    @Option(name: .customLong("negative-prompt"), help: ArgumentHelp("""
        Emu3: the prompt of the unconditional (guidance) branch, built like --prompt; default Emu3-Gen's \
        ("lowres, bad anatomy, …"). Other families build their unconditional row themselves.
        """, valueName: "text"))
    var negativePrompt: String?

    @Option(help: "Images per row of the grid when several labels are drawn (default: all, up to 12).")
    var columns: Int?

    @Option(name: .customLong("batch-size"), help: "Images generated together in the same passes (default: all of them; 1: one after another). An image is the same whatever its batch.")
    var batchSize: Int?

    @Option(name: .customLong("cfg-interval"), help: "Stop guidance after this many tokens (LlamaGen's count); −1 keeps it on.")
    var cfgInterval: Int = -1

    @Option(help: "Random seed: the same seed gives the same image.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("""
        Decoding schedule: raster (one token per pass, H·W passes); zipar (every row lags the row above by \
        --window, W + (H−1)·window passes); zipar-adaptive (a row starts once a draft of its first token, made \
        with --min-window tokens above, is picked again by the larger context); zipar-reference (the released \
        ZipAR code's schedule, 2W + (H−2)·window passes); zipar-lossless (ZipAR's wavefront drafts, a \
        verification window commits in raster order: raster's tokens for the same seed in fewer passes; \
        --verify-window, --draft-lag, --draft-rows).
        """, valueName: "name"))
    var schedule: String = "raster"

    @Option(help: "ZipAR window: a row starts once the row above has this many tokens (zipar: 1 … grid width, where the width is raster order; zipar-reference: 2 … width − 1; default: half the width).")
    var window: Int?

    @Option(name: .customLong("min-window"), help: "zipar-adaptive: the row above holds this many tokens when a row's first token is drafted (2 … grid width − 1; default: half the width).")
    var minWindow: Int?

    @Option(name: .customLong("verify-window"), help: "zipar-lossless: cells the verification window predicts per pass, K (1 … H·W; default 2, the fewest seconds on a CPU; the grid width or more for the fewest passes).")
    var verifyWindow: Int?

    @Option(name: .customLong("draft-lag"), help: "zipar-lossless: a row drafts column c once the row above holds c + lag tokens (1 … grid width; default: width / 6).")
    var draftLag: Int?

    @Option(name: .customLong("draft-rows"), help: "zipar-lossless: rows, from the commit row down, that feed wavefront drafts (0, the default: the window alone … H).")
    var draftRows: Int?

    @Option(name: .customLong("row-start"), help: ArgumentHelp("""
        zipar and zipar-adaptive: how a row's first token is predicted before the row above is complete: \
        placeholder (the default: a query-only stand-in at the slot of the row above's last token, holding \
        the released code's copy of the newest token two rows up; best on the trained glyph model), \
        neighbour (the same stand-in holding the newest token of the row above), shared (no stand-in: the \
        output that predicts the row above's next token).
        """, valueName: "choice"))
    var rowStart: String?

    @Option(help: ArgumentHelp("PNG to write.", valueName: "file"))
    var output: String = "zipar.png"

    @Option(name: .customLong("tokens-out"), help: ArgumentHelp("Also write the tokens as JSON ({height, width, tokens}; one label only).", valueName: "file"))
    var tokensOut: String?

    @Option(name: .customLong("stats-out"), help: ArgumentHelp("Also write statistics as JSON (forward_passes, tokens_per_pass and its histogram, inputs_per_pass, cell_pass, drafts, accepted, rejected, zipar-lossless's draft_matches by source and age, seconds; one label only).", valueName: "file"))
    var statsOut: String?

    @Option(name: .customLong("order-out"), help: ArgumentHelp("Also write the decoding order as a PNG the size of the image: each token a block coloured by the pass that decoded it (dark violet: first, yellow: last).", valueName: "file"))
    var orderOut: String?

    @Flag(name: .customLong("side-by-side"), help: "Write each image with the decoding-order picture to its right.")
    var sideBySide = false

    @Flag(help: "Score the image: the mean negative log-likelihood per token under the raster model (teacher forcing, one extra pass), in the summary and the statistics (one label only).")
    var score = false

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func validate() throws {
        try checkFlag("--columns", columns, { $0 >= 1 }, "must be 1 or more")
        try checkFlag("--batch-size", batchSize, { $0 >= 1 }, "must be 1 or more")
        try checkFlag("--cfg-interval", cfgInterval, { $0 >= -1 }, "must be -1 (always on) or a number of tokens")
    }

    func run() throws {
        for (flag, path) in [("--output", output), ("--tokens-out", tokensOut), ("--stats-out", statsOut), ("--order-out", orderOut)] {
            if let path { try OutputFiles.checkWritable(path, flag: flag) }
        }
        let (family, jobs) = try loadModel()
        if jobs.count > 1 {
            let what = prompt.isEmpty ? "give --class-label a single label" : "give a single --prompt"
            for (flag, given) in [("--tokens-out", tokensOut != nil), ("--stats-out", statsOut != nil), ("--score", score)] where given {
                throw UsageError("\(flag) applies to one image: \(what)")
            }
        }
        let sampling = try samplingFlags.resolved(with: family.sampling)
        let generator = ImageGenerator(model: family.model)
        let spec = try scheduleSpec(width: family.model.gridWidth, lineEnd: family.model.rowsEndInLineEnd)
        if gpt.isDefault && !quiet {
            let which = prompt.isEmpty ? "class-label glyph model (0-9 A-Z)"
                : "text glyph model (a character 0-9 A-Z and two of twelve colours; docs/text-model.md)"
            FileHandle.standardError.write("zipar: using the embedded \(which)\n".data(using: .utf8)!)
        }
        var images: [RGBImage] = [], orders: [RGBImage] = []
        let all = jobs.enumerated().map { k, job in
            GenerationOptions(condition: job.condition, cfgScale: sampling.cfgScale, cfgInterval: cfgInterval,
                              sampling: sampling.options, seed: seed &+ UInt64(k))
        }
        for (job, options) in zip(jobs, all) {
            do { _ = try generator.layout(for: options.condition) } catch let error as GenerationError {
                throw UsageError("\(job.flag) \(job.name): \(error.description)")
            }
        }
        let size = batchSize ?? jobs.count
        for start in stride(from: 0, to: jobs.count, by: size) {
            let chunk = start..<min(jobs.count, start + size)
            let progress = ProgressLine(enabled: !quiet)
            var results = try generator.generate(spec, batch: Array(all[chunk])) { progress.update($0) }
            progress.finish()
            for (k, i) in chunk.enumerated() {
                if score { results[k].stats.teacher_nll = try generator.teacherForcedNLL(tokens: results[k].tokens, options: all[i]) }
                let result = results[k]
                let decodeStart = Date()
                let image = try family.decoder.decode(tokens: result.tokens, height: result.height, width: result.width)
                    .rgbImage(mapping: family.pixelMapping)
                let decodeSeconds = Date().timeIntervalSince(decodeStart)
                let order = RGBImage.passOrder(cellPass: result.stats.cell_pass, gridHeight: result.height, gridWidth: result.width,
                                               width: image.width, height: image.height)
                images.append(sideBySide ? RGBImage.sideBySide(image, order, gap: max(2, image.width / 32)) : image)
                orders.append(order)
                if let tokensOut {
                    try OutputFiles.writeJSON(TokenFile(height: result.height, width: result.width, tokens: result.tokens), to: tokensOut)
                }
                if let statsOut { try OutputFiles.writeJSON(result.stats, to: statsOut) }
                if !quiet { summarize(result, label: jobs[i].name, decodeSeconds: decodeSeconds) }
            }
        }
        let gap = max(2, (images.first?.width ?? 0) / 16), cols = columns ?? min(images.count, 12)
        try writePNG(RGBImage.grid(images, columns: cols, gap: gap), to: output)
        if let orderOut { try writePNG(RGBImage.grid(orders, columns: cols, gap: gap), to: orderOut) }
    }

    /// One image to draw: its condition, its name in the summary, and the flag that gave it.
    struct Job {
        var condition: ImageCondition
        var name: String
        var flag: String
    }

    /// The model the flags name and the images to draw with it: prompts for a text-to-image --model
    /// folder, class labels for a class model (a LlamaGen folder, a preset or the embedded default).
    func loadModel() throws -> (LoadedModel, [Job]) {
        if negativePrompt != nil && prompt.isEmpty { throw UsageError("--negative-prompt needs --prompt and an Emu3 --model") }
        if gpt.model != nil || !prompt.isEmpty {
            if classLabel != nil {
                throw UsageError(gpt.model.map { "--class-label: --model \($0) is a text-to-image model; give it --prompt" } ?? "--prompt and --class-label exclude each other: a prompt is for a text-to-image model, a class label for a class model")
            }
            _ = try gpt.textModelDirectory()
            guard !prompt.isEmpty else { throw UsageError("--model \(gpt.model!) is a text-to-image model: give it --prompt TEXT") }
            let family = try gpt.loadTextModel(vq: vq)
            if let negativePrompt {
                guard let emu3 = family.model as? Emu3Model else {
                    throw UsageError("--negative-prompt applies to Emu3 models; this is a \(family.family) model")
                }
                emu3.negativePrompt = negativePrompt
            }
            return (family, prompt.map { Job(condition: .prompt($0), name: "\"\($0)\"", flag: "--prompt") })
        }
        let model = try gpt.load()
        let labels = try Generate.classes(classLabel ?? "0", config: model.config)
        let family = LoadedModel(model: model, decoder: try vq.load(), pixelMapping: .saveImage,
                                 sampling: try gpt.samplingDefaults(), family: "llamagen")
        return (family, labels.map { Job(condition: .classLabel($0), name: model.config.labelName($0), flag: "--class-label") })
    }

    /// One summary line on stderr per image.
    func summarize(_ result: GenerationResult, label: String, decodeSeconds: Double) {
        let s = result.stats
        var line = String(format: "zipar: %@ %@ %d×%d, %d passes", label, s.schedule, result.height, result.width, s.forward_passes)
        if s.drafts > 0 { line += ", drafts \(s.drafts) (accepted \(s.accepted), rejected \(s.rejected))" }
        if let m = s.draft_matches { line += String(format: ", draft match rate %.3f", m.total.rate) }
        if let nll = s.teacher_nll { line += String(format: ", NLL %.4f", nll) }
        line += String(format: ", %.2f s tokens + %.2f s decode → %@\n", s.seconds, decodeSeconds, output)
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }

    /// The classes `--class-label` names for a model (see its help).
    static func classes(_ text: String, config: GPTConfig) throws -> [Int] {
        let items: [String]
        if let labels = config.labels {
            items = text.filter { $0 != "," && !$0.isWhitespace }.map(String.init)
            guard !items.isEmpty else { throw UsageError("--class-label is empty: give characters of this model's labels \(labels)") }
            for item in items where config.classIndex(item) == nil {
                throw UsageError("--class-label '\(item)' is not a class of this model (its labels: \(labels))")
            }
        } else {
            items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            for item in items where config.classIndex(item) == nil {
                throw UsageError("--class-label '\(item)': expected a class index 0…\(config.num_classes - 1) (this model names no characters)")
            }
        }
        return items.map { config.classIndex($0)! }
    }

    func scheduleSpec(width: Int, lineEnd: Bool) throws -> ScheduleSpec {
        var start: RowStart?
        if let rowStart {
            guard let s = RowStart(rawValue: rowStart) else {
                throw UsageError("--row-start '\(rowStart)': expected \(RowStart.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            start = s
        }
        do {
            return try ScheduleSpec.make(name: schedule, width: width, window: window, minWindow: minWindow, rowStart: start,
                                         lossless: LosslessOptions(verifyWindow: verifyWindow, draftLag: draftLag, draftRows: draftRows),
                                         lineEnd: lineEnd)
        } catch let error as ScheduleSpecError {
            let flag: String
            switch error.about {
            case .name: flag = "--schedule"
            case .window: flag = "--window"
            case .minWindow: flag = "--min-window"
            case .rowStart: flag = "--row-start"
            case .verifyWindow: flag = "--verify-window"
            case .draftLag: flag = "--draft-lag"
            case .draftRows: flag = "--draft-rows"
            }
            throw UsageError("\(flag): \(error.description)")
        }
    }
}

/// The sampling flags as given (nil: not given), resolved against a model's generation_config.json and
/// then LlamaGen's defaults.
struct SamplingFlags: ParsableArguments {
    @Option(name: .customLong("cfg-scale"), help: "Classifier-free guidance scale; 1 or less turns guidance off (default: the model folder's generation_config.json, else the family's: LlamaGen 4, Janus 5).")
    var cfgScale: Float?

    @Option(help: "Sampling temperature; 0 is greedy (argmax) (default: the model folder's generation_config.json, else 1).")
    var temperature: Float?

    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens, 0: all (default: the model folder's generation_config.json, else the family's: LlamaGen 2000, Janus 0).")
    var topK: Int?

    @Option(name: .customLong("top-p"), help: "Nucleus sampling mass, 1: off (default: the model folder's generation_config.json, else 1).")
    var topP: Float?

    /// The settings to sample with: flag, else the model's defaults (its family's, overridden by its
    /// generation_config.json).
    func validate() throws {
        try checkFlag("--cfg-scale", cfgScale, { $0.isFinite && $0 >= 0 }, "must be a finite number, 0 or more")
        try checkFlag("--temperature", temperature, { $0.isFinite && $0 >= 0 }, "must be 0 (greedy) or a finite positive number")
        try checkFlag("--top-k", topK, { $0 >= 0 }, "must be 0 or positive")
        try checkFlag("--top-p", topP, { $0 > 0 && $0 <= 1 }, "must lie in (0, 1]")
    }

    func resolved(with model: SamplingDefaults) throws -> (cfgScale: Float, options: SamplingOptions) {
        let options = SamplingOptions(temperature: temperature ?? model.options.temperature, topK: topK ?? model.options.topK,
                                      topP: topP ?? model.options.topP)
        return (cfgScale ?? model.cfgScale, options)
    }
}

/// A one-line progress display on stderr (only on a terminal).
final class ProgressLine {
    let enabled: Bool
    private var last = Date.distantPast

    init(enabled: Bool) { self.enabled = enabled && isatty(2) != 0 }

    func update(_ p: GenerationProgress) -> Bool {
        show("pass \(p.pass), tokens \(p.tokensDone)/\(p.tokensTotal)", force: p.tokensDone == p.tokensTotal)
    }

    /// Shows `text` (at most ten times a second unless `force`); always true (never cancels), so a progress
    /// callback can return it.
    @discardableResult
    func show(_ text: String, force: Bool = false) -> Bool {
        guard enabled, Date().timeIntervalSince(last) > 0.1 || force else { return true }
        last = Date()
        FileHandle.standardError.write("\r\(text)".data(using: .utf8)!)
        return true
    }

    func finish() { if enabled { FileHandle.standardError.write("\n".data(using: .utf8)!) } }
}
