import ArgumentParser
import Foundation
import ZipAR

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate an image from a class label and write it as PNG.",
        discussion: """
        With no model arguments the embedded default model is used (a small test model for now).
        Released LlamaGen checkpoints: --gpt-model GPT-B --gpt-ckpt c2i_B_256.pt --image-size 256 \
        --vq-model VQ-16 --vq-ckpt vq_ds16_c2i.pt.
        """)

    @OptionGroup(title: "GPT") var gpt: GPTOptions
    @OptionGroup(title: "VQ decoder") var vq: VQOptions

    @Option(name: .customLong("class-label"), help: "Class to draw (0 … num_classes−1).")
    var classLabel: Int = 0

    @Option(name: .customLong("cfg-scale"), help: "Classifier-free guidance scale; 1 or less turns guidance off.")
    var cfgScale: Float = 4.0

    @Option(name: .customLong("cfg-interval"), help: "Stop guidance after this many tokens (LlamaGen's count); −1 keeps it on.")
    var cfgInterval: Int = -1

    @Option(help: "Sampling temperature; 0 is greedy (argmax).")
    var temperature: Float = 1.0

    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0: all).")
    var topK: Int = 2000

    @Option(name: .customLong("top-p"), help: "Nucleus sampling mass (1: off).")
    var topP: Float = 1.0

    @Option(help: "Random seed: the same seed gives the same image.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("""
        Decoding schedule: raster (one token per pass, H·W passes); zipar (every row lags the row above by \
        --window, W + (H−1)·window passes); zipar-adaptive (a row starts once a draft of its first token, made \
        with --min-window tokens above, passes a speculative-sampling check); zipar-reference (the released \
        ZipAR code's schedule, 2W + (H−2)·window passes).
        """, valueName: "name"))
    var schedule: String = "raster"

    @Option(help: "ZipAR window: a row starts once the row above has this many tokens (zipar: 1 … grid width, where the width is raster order; zipar-reference: 2 … width − 1; default: half the width).")
    var window: Int?

    @Option(name: .customLong("min-window"), help: "zipar-adaptive: the row above holds this many tokens when a row's first token is drafted (2 … grid width − 1; default: half the width).")
    var minWindow: Int?

    @Option(name: .customLong("row-start"), help: ArgumentHelp("""
        zipar and zipar-adaptive: how a row's first token is predicted before the row above is complete: \
        neighbour (the default: a query-only stand-in at the slot of the row above's last token, holding the \
        newest token of the row above), placeholder (the same stand-in holding the released code's copy of the \
        newest token two rows up), shared (no stand-in: the output that predicts the row above's next token).
        """, valueName: "choice"))
    var rowStart: String?

    @Option(help: ArgumentHelp("PNG to write.", valueName: "file"))
    var output: String = "zipar.png"

    @Option(name: .customLong("tokens-out"), help: ArgumentHelp("Also write the tokens as JSON ({height, width, tokens}).", valueName: "file"))
    var tokensOut: String?

    @Option(name: .customLong("stats-out"), help: ArgumentHelp("Also write statistics as JSON (forward_passes, tokens_per_pass, cell_pass, drafts, accepted, rejected, seconds).", valueName: "file"))
    var statsOut: String?

    @Option(name: .customLong("order-out"), help: ArgumentHelp("Also write the decoding order as a PNG the size of the image: each token a block coloured by the pass that decoded it (dark violet: first, yellow: last).", valueName: "file"))
    var orderOut: String?

    @Flag(name: .customLong("side-by-side"), help: "Write the image with the decoding-order picture to its right.")
    var sideBySide = false

    @Flag(help: "Score the image: the mean negative log-likelihood per token under the raster model (teacher forcing, one extra pass), in the summary and the statistics.")
    var score = false

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func run() throws {
        guard temperature >= 0 else { throw UsageError("--temperature \(temperature): must be 0 (greedy) or positive") }
        guard topK >= 0 else { throw UsageError("--top-k \(topK): must be 0 or positive") }
        guard topP > 0, topP <= 1 else { throw UsageError("--top-p \(topP): must lie in (0, 1]") }
        for (flag, path) in [("--output", output), ("--tokens-out", tokensOut), ("--stats-out", statsOut), ("--order-out", orderOut)] {
            if let path { try OutputFiles.checkWritable(path, flag: flag) }
        }
        let model = try gpt.load()
        let decoder = try vq.load()
        let generator = ImageGenerator(model: model)
        var plan = try makeSchedule(layout: generator.layout)
        let options = GenerationOptions(classLabel: classLabel, cfgScale: cfgScale, cfgInterval: cfgInterval,
                                        sampling: SamplingOptions(temperature: temperature, topK: topK, topP: topP), seed: seed)
        guard options.classLabel >= 0 && options.classLabel < model.config.num_classes else {
            throw UsageError("--class-label \(classLabel) is out of range 0…\(model.config.num_classes - 1)")
        }
        if gpt.isDefault && !quiet {
            FileHandle.standardError.write("zipar: using the embedded default model (a small test model; see README)\n".data(using: .utf8)!)
        }
        let progress = ProgressLine(enabled: !quiet)
        var result = try generator.generate(schedule: &plan, options: options) { progress.update($0) }
        progress.finish()
        if score { result.stats.teacher_nll = generator.teacherForcedNLL(tokens: result.tokens, options: options) }
        let decodeStart = Date()
        try writeImages(decoder, result)
        let decodeSeconds = Date().timeIntervalSince(decodeStart)
        if let tokensOut {
            try OutputFiles.writeJSON(TokenFile(height: result.height, width: result.width, tokens: result.tokens), to: tokensOut)
        }
        if let statsOut { try OutputFiles.writeJSON(result.stats, to: statsOut) }
        if !quiet {
            let s = result.stats
            var line = String(format: "zipar: %@ %d×%d, %d passes", s.schedule, result.height, result.width, s.forward_passes)
            if s.drafts > 0 { line += ", drafts \(s.drafts) (accepted \(s.accepted), rejected \(s.rejected))" }
            if let nll = s.teacher_nll { line += String(format: ", NLL %.4f", nll) }
            line += String(format: ", %.2f s tokens + %.2f s decode → %@\n", s.seconds, decodeSeconds, output)
            FileHandle.standardError.write(line.data(using: .utf8)!)
        }
    }

    /// The PNG (beside the decoding order with --side-by-side) and the order picture of --order-out.
    func writeImages(_ decoder: VQDecoder, _ result: GenerationResult) throws {
        guard sideBySide || orderOut != nil else {
            return try writeImage(decoder, tokens: result.tokens, height: result.height, width: result.width, to: output)
        }
        let image = try decoder.decode(tokens: result.tokens, height: result.height, width: result.width).rgbImage()
        let order = RGBImage.passOrder(cellPass: result.stats.cell_pass, gridHeight: result.height, gridWidth: result.width,
                                       width: image.width, height: image.height)
        let shown = sideBySide ? RGBImage.sideBySide(image, order, gap: max(2, image.width / 32)) : image
        try writePNG(rgb: shown.pixels, width: shown.width, height: shown.height, to: output)
        if let orderOut { try writePNG(rgb: order.pixels, width: order.width, height: order.height, to: orderOut) }
    }

    func makeSchedule(layout: SequenceLayout) throws -> any DecodingSchedule {
        let width = layout.width
        if window != nil && !["zipar", "zipar-reference"].contains(schedule) {
            throw UsageError("--window applies to zipar and zipar-reference (zipar-adaptive takes --min-window)")
        }
        if minWindow != nil && schedule != "zipar-adaptive" { throw UsageError("--min-window applies to zipar-adaptive only") }
        if rowStart != nil && !["zipar", "zipar-adaptive"].contains(schedule) {
            throw UsageError("--row-start applies to zipar and zipar-adaptive only")
        }
        guard let start = RowStart(rawValue: rowStart ?? RowStart.neighbour.rawValue) else {
            throw UsageError("--row-start '\(rowStart!)': expected \(RowStart.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        switch schedule {
        case "raster":
            return RasterSchedule(layout: layout, cfgInterval: cfgInterval)
        case "zipar":
            let range = ZipARSchedule.validWindows(width: width), w = window ?? max(1, width / 2)
            guard range.contains(w) else {
                throw UsageError("--window \(w) is outside \(range.lowerBound)…\(range.upperBound) for zipar on a \(width)-wide grid")
            }
            return ZipARSchedule(layout: layout, window: w, rowStart: start, cfgInterval: cfgInterval)
        case "zipar-adaptive":
            guard let range = ZipARAdaptiveSchedule.validMinWindows(width: width) else {
                throw UsageError("--schedule zipar-adaptive needs a grid at least 3 tokens wide (this one is \(width))")
            }
            let s = minWindow ?? max(2, width / 2)
            guard range.contains(s) else {
                throw UsageError("--min-window \(s) is outside \(range.lowerBound)…\(range.upperBound) for zipar-adaptive on a \(width)-wide grid (a row's first two tokens settle in one pass, so no draft can come earlier than at 2)")
            }
            return ZipARAdaptiveSchedule(layout: layout, minWindow: s, rowStart: start, cfgInterval: cfgInterval)
        case "zipar-reference":
            guard let range = ZipARReferenceSchedule.validWindows(width: width) else {
                throw UsageError("--schedule zipar-reference needs a grid at least 3 tokens wide (this one is \(width))")
            }
            let w = window ?? max(2, width / 2)
            guard range.contains(w) else {
                throw UsageError("--window \(w) is outside \(range.lowerBound)…\(range.upperBound) for zipar-reference on a \(width)-wide grid")
            }
            return ZipARReferenceSchedule(layout: layout, window: w, cfgInterval: cfgInterval)
        default:
            throw UsageError("--schedule '\(schedule)': expected raster, zipar, zipar-adaptive or zipar-reference")
        }
    }
}

/// A one-line progress display on stderr (only on a terminal).
final class ProgressLine {
    let enabled: Bool
    private var last = Date.distantPast

    init(enabled: Bool) { self.enabled = enabled && isatty(2) != 0 }

    func update(_ p: GenerationProgress) -> Bool {
        guard enabled, Date().timeIntervalSince(last) > 0.1 || p.tokensDone == p.tokensTotal else { return true }
        last = Date()
        FileHandle.standardError.write("\rpass \(p.pass), tokens \(p.tokensDone)/\(p.tokensTotal)".data(using: .utf8)!)
        return true
    }

    func finish() { if enabled { FileHandle.standardError.write("\n".data(using: .utf8)!) } }
}
