import ArgumentParser
import Foundation
import ZipAR

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure generation and decode speed with random weights at real model shapes (no download).",
        discussion: """
        Times whole images (one generate call each) per schedule, a VQ decode of one image, the memory read \
        bandwidth (the floor a pass cannot beat: its weight bytes at that bandwidth) and an sgemm peak, all \
        in one run. Other work on the machine disturbs the numbers: the report shows the load average.
        --model janus-pro-1b|janus-pro-7b times Janus-Pro at its real shapes (384 px, 24×24 tokens, a fixed \
        17-token prompt, CFG 5, temperature 1, no top-k, bfloat16 unless --weights-dtype says otherwise; \
        schedules raster,zipar-reference:8 unless --schedules says otherwise). --model lumina-mgpt-7b times \
        Lumina-mGPT-7B (768 px, 48×48 tokens with an end-of-line token per row, a fixed 40-token prompt, CFG 3, \
        image top-k 2000, bfloat16, raster,zipar-reference:16, no decode). --model emu3-gen times Emu3-Gen (720 px, \
        90×90 tokens with an end-of-line token per row, GQA 32/8 heads, prompts of 23 and 55 tokens, CFG 3, top-k \
        2048, bfloat16, raster,zipar:7, the vision tokenizer's decoder for frame 0). Whole images at these shapes \
        take tens of minutes to hours on a few cores: use --warmup 0 --repeats 1, or --timed-passes 100 to \
        extrapolate (with --timed-from 0.5 to time the middle of the image), and --decode-grid for the decoder.
        """)

    @Option(name: .customLong("gpt-model"), help: "LlamaGen preset: \(GPTConfig.presetNames.joined(separator: ", ")) (default GPT-B).")
    var gptModel: String?

    @Option(help: "Text-to-image model at its real shapes: \(BenchmarkPlan.textModelNames.joined(separator: ", ")) (instead of --gpt-model).")
    var model: String?

    @Option(name: .customLong("image-size"), help: "Image size in pixels, divisible by 16 (default 256; the grid is this ÷ 16).")
    var imageSize: Int?

    @Option(name: .customLong("weights-dtype"), help: "Storage of the weight matrices and KV cache: float32, bfloat16 or int8 (int8 matrices keep a bfloat16 KV cache; default float32, Janus bfloat16).")
    var weightsDtype: String?

    @Option(help: ArgumentHelp("""
        Comma-separated schedules: raster, zipar:W, zipar-adaptive:S, zipar-reference:W, \
        zipar-lossless[:K[:LAG:ROWS]] (W the window, S the minimum window, K the verification window; no \
        number: half the grid width, zipar-lossless its defaults). zipar-adaptive also reports its drafts, accepted and \
        rejected per image: with random weights the acceptance says nothing about quality, only the passes and \
        the time it leads to are measured. Default raster,zipar-reference:8,zipar-reference:4 (Janus: \
        raster,zipar-reference:8).
        """, valueName: "list"))
    var schedules: String?

    @Option(help: "Untimed rounds first (one image per schedule each).")
    var warmup: Int = 1

    @Option(help: "Timed rounds; the median is reported.")
    var repeats: Int = 3

    @Option(name: .customLong("timed-passes"), help: "Run only each image's first N schedule passes and extrapolate the whole image's seconds: the time through the first pass (the prefill) plus the mean of the other N − 1 per remaining pass (for real 7B shapes; at least 100 passes make a fair sample; not for zipar-adaptive).")
    var timedPasses: Int?

    @Option(name: .customLong("timed-from"), help: "With --timed-passes: plan but do not run each schedule's passes after the first up to this fraction of its passes (0…<1; 0.5: time the middle of the image, where a zipar wavefront is at full width and attention reads the mean context; the skipped slots hold zero keys and values, marked written).")
    var timedFrom: Double = 0

    @Option(name: .customLong("decode-grid"), help: "Time the decoder on an N×N token grid (at most the model's) and extrapolate the image's decode by FLOPs (default: the image's grid).")
    var decodeGrid: Int?

    @Option(help: "Images per generate call, sharing every pass (class models cycle through LlamaGen's sample classes 207, 360, 387, 974, 88, 979, 417, 279); the table adds images/s.")
    var batch: Int = 1

    @Option(name: .customLong("pass-inputs"), help: ArgumentHelp("Comma-separated input counts n: also time one pass of n inputs, cost(n), beside cost(1) (e.g. the inputs per pass zipar-lossless needed on the glyph model: its wall-clock ratio to raster at these shapes is passes × cost(n) / (H·W × cost(1))).", valueName: "list"))
    var passInputs: String?

    @Flag(name: .customLong("no-decode"), help: "Skip the VQ decode.")
    var noDecode = false

    @Flag(help: "A tiny model and small probes: the whole command in seconds, to check it runs (numbers mean nothing).")
    var smoke = false

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    func validate() throws {
        try checkImageSize(imageSize)
        try checkFlag("--warmup", warmup, { (0...1000).contains($0) }, "must lie in 0…1000")
        try checkFlag("--repeats", repeats, { (1...1000).contains($0) }, "must lie in 1…1000")
        try checkFlag("--timed-passes", timedPasses, { (2...1_000_000).contains($0) }, "must lie in 2…1000000")
        try checkFlag("--timed-from", timedFrom, { (0..<1).contains($0) }, "must lie in [0, 1)")
        try checkFlag("--decode-grid", decodeGrid, { (1...4096).contains($0) }, "must lie in 1…4096")
        if timedFrom > 0 && timedPasses == nil { throw UsageError("--timed-from needs --timed-passes") }
    }

    func run() throws {
        var plan: BenchmarkPlan
        if smoke {
            guard gptModel == nil, imageSize == nil, model == nil else {
                throw UsageError("--smoke uses its own tiny model: drop --gpt-model, --model and --image-size")
            }
            plan = .smoke
        } else if let model {
            guard gptModel == nil else { throw UsageError("--model and --gpt-model name two models: give one") }
            guard imageSize == nil else { throw UsageError("--image-size: \(model) is timed at its trained size (Janus-Pro 384 px, Lumina-mGPT-7B 768 px, Emu3-Gen 720 px)") }
            guard let text = BenchmarkPlan.text(model) else {
                throw UsageError("--model '\(model)': expected one of \(BenchmarkPlan.textModelNames.joined(separator: ", "))")
            }
            plan = text
        } else {
            let name = gptModel ?? "GPT-B", size = imageSize ?? 256
            guard GPTConfig.presetNames.contains(name) else {
                throw UsageError("--gpt-model '\(name)': expected one of \(GPTConfig.presetNames.joined(separator: ", "))")
            }
            guard let preset = BenchmarkPlan.preset(name, imageSize: size) else {
                throw UsageError("--image-size \(size): must be a positive multiple of 16")
            }
            plan = preset
        }
        guard let precision = weightsDtype.map({ WeightPrecision(rawValue: $0) }) ?? plan.precision else {
            throw UsageError("--weights-dtype '\(weightsDtype ?? "")': expected float32, bfloat16 or int8")
        }
        do {
            if let schedules { plan.schedules = try ScheduleSpec.parseList(schedules, width: plan.gridSide, lineEnd: plan.model.rowsEndInLineEnd) }
        } catch let error as ScheduleSpecError {
            throw UsageError("--schedules \(error.description)")
        }
        plan.precision = precision
        plan.warmup = warmup
        plan.repeats = repeats
        plan.timedPasses = timedPasses
        plan.timedFrom = timedFrom
        if let decodeGrid {
            guard decodeGrid <= plan.gridSide else { throw UsageError("--decode-grid \(decodeGrid): at most the model's grid of \(plan.gridSide)") }
            plan.decodeGridSide = decodeGrid
        }
        guard batch >= 1 else { throw UsageError("--batch \(batch): must be 1 or more") }
        plan.batch = batch
        if noDecode { plan.decoder = nil }
        if let passInputs {
            plan.passInputs = try passInputs.split(separator: ",", omittingEmptySubsequences: false).map {
                guard let n = Int($0.trimmingCharacters(in: .whitespaces)), (1...4096).contains(n) else {
                    throw UsageError("--pass-inputs '\($0)': expected whole numbers 1…4096")
                }
                return n
            }
        }
        let report = try Benchmark.run(plan) { line in
            if !quiet { FileHandle.standardError.write("bench: \(line)\n".data(using: .utf8)!) }
        }
        print(json ? try report.json() : report.table())
    }
}
