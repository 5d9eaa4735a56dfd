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

    @Option(help: "Decoding schedule: raster (one token per pass) or zipar-reference (the released ZipAR code's schedule).")
    var schedule: String = "raster"

    @Option(help: "ZipAR window: a row starts once the row above has this many tokens (zipar-reference: 2 … grid width − 1; default: half the width).")
    var window: Int?

    @Option(help: ArgumentHelp("PNG to write.", valueName: "file"))
    var output: String = "zipar.png"

    @Option(name: .customLong("tokens-out"), help: ArgumentHelp("Also write the tokens as JSON ({height, width, tokens}).", valueName: "file"))
    var tokensOut: String?

    @Option(name: .customLong("stats-out"), help: ArgumentHelp("Also write statistics as JSON (forward_passes, tokens_per_pass, seconds).", valueName: "file"))
    var statsOut: String?

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func run() throws {
        guard temperature >= 0 else { throw UsageError("--temperature \(temperature): must be 0 (greedy) or positive") }
        guard topK >= 0 else { throw UsageError("--top-k \(topK): must be 0 or positive") }
        guard topP > 0, topP <= 1 else { throw UsageError("--top-p \(topP): must lie in (0, 1]") }
        for (flag, path) in [("--output", output), ("--tokens-out", tokensOut), ("--stats-out", statsOut)] {
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
        let result = try generator.generate(schedule: &plan, options: options) { progress.update($0) }
        progress.finish()
        let decodeStart = Date()
        try writeImage(decoder, tokens: result.tokens, height: result.height, width: result.width, to: output)
        let decodeSeconds = Date().timeIntervalSince(decodeStart)
        if let tokensOut {
            try OutputFiles.writeJSON(TokenFile(height: result.height, width: result.width, tokens: result.tokens), to: tokensOut)
        }
        if let statsOut { try OutputFiles.writeJSON(result.stats, to: statsOut) }
        if !quiet {
            let s = result.stats
            let line = String(format: "zipar: %@ %d×%d, %d passes, %.2f s tokens + %.2f s decode → %@\n",
                              s.schedule, result.height, result.width, s.forward_passes, s.seconds, decodeSeconds, output)
            FileHandle.standardError.write(line.data(using: .utf8)!)
        }
    }

    func makeSchedule(layout: SequenceLayout) throws -> any DecodingSchedule {
        switch schedule {
        case "raster":
            return RasterSchedule(layout: layout, cfgInterval: cfgInterval)
        case "zipar-reference":
            guard let range = ZipARReferenceSchedule.validWindows(width: layout.width) else {
                throw UsageError("--schedule zipar-reference needs a grid at least 3 tokens wide (this one is \(layout.width))")
            }
            let w = window ?? max(2, layout.width / 2)
            guard range.contains(w) else {
                throw UsageError("--window \(w) is outside \(range.lowerBound)…\(range.upperBound) for zipar-reference on a \(layout.width)-wide grid")
            }
            return ZipARReferenceSchedule(layout: layout, window: w, cfgInterval: cfgInterval)
        default:
            throw UsageError("--schedule '\(schedule)': expected raster or zipar-reference")
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
