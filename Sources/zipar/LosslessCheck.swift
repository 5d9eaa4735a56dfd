import ArgumentParser
import Foundation
import ZipAR

struct LosslessCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lossless-check",
        abstract: "Check that zipar-lossless draws raster's images: seed for seed, greedy over its sizes, and by a χ² test of its sampler.",
        discussion: """
        --chi-square: on a tiny engine model (vocabulary 3, a 2×2 grid, 81 grids) --samples zipar-lossless \
        grids against the exact raster joint at p = 0.001, and two deliberately broken variants that must \
        fail. --greedy: every class of the model, temperature 0, CFG off and --cfg-scale, over --windows × \
        --lags (every row drafting) and the window alone. Otherwise: --seeds seeds of each of --classes, \
        sampled with the model's settings, through raster and --schedules. Every mismatch is printed with \
        the cell and the top-two gap of raster's decision there; the exit status is 1 when anything fails.
        """)

    @OptionGroup(title: "GPT") var gpt: GPTOptions
    @OptionGroup(title: "Sampling") var samplingFlags: SamplingFlags

    @Flag(name: .customLong("chi-square"), help: "Run the χ² test of the sampler on the tiny model.")
    var chiSquare = false

    @Option(help: "Samples per variant of the χ² test.")
    var samples: Int = 200_000

    @Flag(help: "Step 0: how often a draft under each candidate view (copies; the ZipAR wavefront at each of --lags), computed from raster's final tokens, equals raster's token; --seeds seeds of each of --classes.")
    var oracle = false

    @Flag(help: "Greedy decoding: every class over --windows × --lags, CFG off and on.")
    var greedy = false

    @Option(help: ArgumentHelp("Comma-separated verification windows for --greedy (W: the grid width).", valueName: "list"))
    var windows: String = "1,2,4,8,W"

    @Option(help: ArgumentHelp("Comma-separated draft lags for --greedy.", valueName: "list"))
    var lags: String = "1,2,3,4,6"

    @Option(help: ArgumentHelp("Comma-separated schedules compared with raster when sampling.", valueName: "list"))
    var schedules: String = "zipar-lossless"

    @Option(help: "Seeds per class when sampling (seed 0 … seeds − 1).")
    var seeds: Int = 1000

    @Option(help: ArgumentHelp("Classes, as --class-label of generate takes them (default: all).", valueName: "labels"))
    var classes: String?

    @Option(name: .customLong("batch-size"), help: "Images generated together in the same passes.")
    var batchSize: Int = 72

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func validate() throws {
        try checkFlag("--samples", samples, { (100...10_000_000).contains($0) }, "must lie in 100…10000000")
        try checkFlag("--seeds", seeds, { (1...1_000_000).contains($0) }, "must lie in 1…1000000")
        try checkFlag("--batch-size", batchSize, { $0 >= 1 }, "must be 1 or more")
    }

    func run() throws {
        if chiSquare { return try runChiSquare() }
        let model = try gpt.load()
        let side = model.config.gridSize
        let labels = try classes.map { try Generate.classes($0, config: model.config) } ?? Array(0..<model.config.num_classes)
        let sampling = try samplingFlags.resolved(with: try gpt.samplingDefaults())
        let numbersOfLags = try numbers(lags, flag: "--lags", width: side)
        if let bad = numbersOfLags.first(where: { !(1...side).contains($0) }) { throw UsageError("--lags \(bad) is outside 1…\(side)") }
        if oracle { return try runOracle(model: model, labels: labels, sampling: sampling, lags: numbersOfLags) }
        let comparison = LosslessComparison(generator: ImageGenerator(model: model))
        var runs: [(name: String, batch: [GenerationOptions], specs: [ScheduleSpec])] = []
        if greedy {
            let ks = try numbers(windows, flag: "--windows", width: side), ls = try numbers(lags, flag: "--lags", width: side)
            var specs: [ScheduleSpec] = []
            do {
                for k in ks {
                    for l in ls { specs.append(try ScheduleSpec.make(name: "zipar-lossless", width: side, lossless: LosslessOptions(verifyWindow: k, draftLag: l))) }
                    specs.append(try ScheduleSpec.make(name: "zipar-lossless", width: side, lossless: LosslessOptions(verifyWindow: k, draftRows: 0)))
                }
            } catch let error as ScheduleSpecError {
                throw UsageError("\(error.about == .verifyWindow ? "--windows" : "--lags") \(error.description)")
            }
            for cfg in Set([1, sampling.cfgScale]).sorted() {
                runs.append(("greedy, cfg \(cfg)", labels.map { GenerationOptions(classLabel: $0, cfgScale: cfg, sampling: SamplingOptions(temperature: 0)) }, specs))
            }
        } else {
            let specs: [ScheduleSpec]
            do { specs = try ScheduleSpec.parseList(schedules, width: side) } catch let error as ScheduleSpecError {
                throw UsageError("--schedules \(error.description)")
            }
            let batch = labels.flatMap { label in
                (0..<seeds).map { GenerationOptions(classLabel: label, cfgScale: sampling.cfgScale, sampling: sampling.options, seed: UInt64($0)) }
            }
            runs.append(("cfg \(sampling.cfgScale), temperature \(sampling.options.temperature), top-k \(sampling.options.topK), top-p \(sampling.options.topP)", batch, specs))
        }
        var failed = false
        for run in runs {
            let progress = ProgressLine(enabled: !quiet)
            let (mismatches, stats) = try comparison.compare(run.batch, specs: run.specs, batchSize: batchSize) {
                progress.show("\(run.name): image \($0)/\(run.batch.count)")
            }
            progress.finish()
            print("\(run.name): \(run.batch.count) images × \(run.specs.count) schedules, \(mismatches.count) mismatches")
            for m in mismatches {
                print(String(format: "  MISMATCH %@ class %d seed %llu: first at cell %d, raster's top-two gap %.3g",
                             m.spec.description, { if case .classLabel(let l) = m.options.condition { l } else { -1 } }(),
                             m.options.seed, m.cell, m.gap))
            }
            for (spec, s) in zip(run.specs, stats) {
                let passes = Double(s.reduce(0) { $0 + $1.forward_passes }) / Double(s.count)
                let inputs = Double(s.reduce(0) { $0 + $1.inputs_per_pass.reduce(0, +) }) / Double(s.reduce(0) { $0 + $1.forward_passes })
                print("  " + spec.description.padding(toLength: 26, withPad: " ", startingAt: 0)
                      + String(format: "%6.1f passes/image  %5.1f inputs/pass", passes, inputs))
            }
            failed = failed || !mismatches.isEmpty
        }
        if failed { throw ExitCode(1) }
    }

    func runOracle(model: GPT, labels: [Int], sampling: (cfgScale: Float, options: SamplingOptions), lags: [Int]) throws {
        let batch = labels.flatMap { label in
            (0..<seeds).map { GenerationOptions(classLabel: label, cfgScale: sampling.cfgScale, sampling: sampling.options, seed: UInt64($0)) }
        }
        let progress = ProgressLine(enabled: !quiet)
        let rows = try DraftOracle(generator: ImageGenerator(model: model)).measure(batch, lags: lags, batchSize: batchSize) {
            progress.show("oracle: image \($0)/\(batch.count)")
        }
        progress.finish()
        print("step-0 oracle: \(batch.count) raster images (cfg \(sampling.cfgScale), temperature \(sampling.options.temperature), top-k \(sampling.options.topK), top-p \(sampling.options.topP)); drafts from raster's own tokens")
        print("| draft view | α, all cells | α, rows 1… |")
        print("|---|---|---|")
        for r in rows { print(String(format: "| %@ | %.3f | %.3f |", r.view, r.rate, r.rateBelowRow0)) }
    }

    func runChiSquare() throws {
        let test = try LosslessChiSquare()
        print("χ² test, tiny model (vocabulary 3, 2×2 grid, 81 grids), \(test.spec), \(samples) samples per variant, p = 0.001")
        var failed = false
        for variant in LosslessChiSquare.Variant.allCases {
            let r = try test.run(variant, samples: samples)
            let expected = variant == .lossless
            print("  " + variant.rawValue.padding(toLength: 30, withPad: " ", startingAt: 0)
                  + String(format: "χ² %12.1f on %2d dof (critical %.1f): %@%@", r.chiSquare, r.degreesOfFreedom,
                         r.critical, r.passes ? "passes" : "fails", r.passes == expected ? "" : "  (WRONG)"))
            failed = failed || r.passes != expected
        }
        if failed { throw ExitCode(1) }
    }

    /// A comma-separated list of whole numbers ("W": the grid width).
    private func numbers(_ text: String, flag: String, width: Int) throws -> [Int] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map {
            let item = $0.trimmingCharacters(in: .whitespaces)
            if item == "W" { return width }
            guard let n = Int(item) else { throw UsageError("\(flag) '\(item)' is not a whole number (or W)") }
            return n
        }
    }
}
