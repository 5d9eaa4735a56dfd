import ArgumentParser
import Foundation
import ZipAR

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure what each schedule draws: classifier accuracy and Fréchet distance over a seeded image set.",
        discussion: """
        Generates --per-class images of every class (image i of each class with seed --seed + i, the same for \
        every schedule), decodes them and scores them with a glyph classifier: the share recognised as the \
        class asked for, and the Fréchet distance between the classifier's features of the generated images \
        and of held-out real ones (the classifier folder's fd_reference.safetensors). With no model \
        arguments: the embedded glyph model and its classifier.
        """)

    @OptionGroup(title: "GPT") var gpt: GPTOptions
    @OptionGroup(title: "VQ decoder") var vq: VQOptions
    @OptionGroup(title: "Sampling") var samplingFlags: SamplingFlags

    @Option(help: ArgumentHelp("Classifier folder: config.json, model.safetensors, fd_reference.safetensors (default: the embedded one).", valueName: "dir"))
    var classifier: String?

    @Option(help: ArgumentHelp("Comma-separated schedules: raster, zipar:W, zipar-adaptive:S, zipar-reference:W, zipar-lossless[:K[:LAG:ROWS]] (W the window, S the minimum window, K the verification window).", valueName: "list"))
    var schedules: String = "raster,zipar:6,zipar-reference:6"

    @Option(name: .customLong("row-start"), help: ArgumentHelp("How zipar and zipar-adaptive predict a row's first token early: placeholder (default), neighbour or shared (see generate --help).", valueName: "choice"))
    var rowStart: String?

    @Option(name: .customLong("per-class"), help: "Images per class and schedule.")
    var perClass: Int = 20

    @Option(help: ArgumentHelp("Classes to draw, as --class-label of generate takes them (default: all).", valueName: "labels"))
    var classes: String?

    @Option(help: "Seed of image 0 of each class; image i uses seed + i.")
    var seed: UInt64 = 0

    @Option(name: .customLong("batch-size"), help: "Images generated together in the same passes (1: one after another). The images, and so the scores, are the same whatever the batch size.")
    var batchSize: Int = 72

    @Flag(help: "Print one JSON object (settings and a row per schedule) instead of the table.")
    var json = false

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func validate() throws {
        try checkFlag("--per-class", perClass, { (1...maxImages).contains($0) }, "must lie in 1…\(maxImages)")
        try checkFlag("--batch-size", batchSize, { $0 >= 1 }, "must be 1 or more")
    }

    func run() throws {
        let model = try gpt.load()
        var specs: [ScheduleSpec]
        do {
            specs = try ScheduleSpec.parseList(schedules, width: model.config.gridSize)
        } catch let error as ScheduleSpecError {
            throw UsageError("--schedules \(error.description)")
        }
        if let rowStart {
            guard let start = RowStart(rawValue: rowStart) else {
                throw UsageError("--row-start '\(rowStart)': expected \(RowStart.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            specs = specs.map { $0.withRowStart(start) }
        }
        let labels = try classes.map { try Generate.classes($0, config: model.config) } ?? Array(0..<model.config.num_classes)
        if let twice = labels.indices.first(where: { labels[..<$0].contains(labels[$0]) }) {
            throw UsageError("--classes: class '\(model.config.labelName(labels[twice]))' is given twice")
        }
        let sampling = try samplingFlags.resolved(with: try gpt.samplingDefaults())
        let folder = try classifier ?? DefaultModel.directory("classifier")
        let glyphs = try GlyphClassifier(directory: folder)
        let reference = try FeatureStatistics(file: (folder as NSString).appendingPathComponent(glyphs.config.referenceFile))
        let evaluation: QualityEvaluation
        do {
            evaluation = try QualityEvaluation(model: model, decoder: try vq.load(), classifier: glyphs, reference: reference)
        } catch let error as QualityEvaluationError {
            throw UsageError("--classifier \(folder): \(error.description)")
        }
        var rows: [QualityRow] = []
        for spec in specs {
            let progress = ProgressLine(enabled: !quiet)
            rows.append(try evaluation.run(spec, classes: labels, perClass: perClass, cfgScale: sampling.cfgScale,
                                           sampling: sampling.options, seed: seed, batchSize: batchSize) { done, total in
                progress.show("\(spec): image \(done)/\(total)")
            })
            progress.finish()
        }
        let report = EvalReport(per_class: perClass, classes: labels.map(model.config.labelName).joined(separator: ","),
                                cfg_scale: sampling.cfgScale, temperature: sampling.options.temperature,
                                top_k: sampling.options.topK, top_p: sampling.options.topP, seed: seed,
                                classifier: classifier ?? "embedded default",
                                classifier_heldout_accuracy: glyphs.config.heldout_accuracy,
                                fd_reference: glyphs.config.fd_reference, rows: rows)
        print(json ? try report.json() : report.table())
    }
}

/// What `zipar eval` prints: its settings and one row per schedule.
struct EvalReport: Codable {
    var per_class: Int, classes: String, cfg_scale: Float, temperature: Float, top_k: Int, top_p: Float, seed: UInt64
    var classifier: String
    /// The classifier's accuracy on held-out real glyphs and what its FD reference was taken from (from its
    /// config.json, when given).
    var classifier_heldout_accuracy: Double?, fd_reference: ClassifierConfig.FDReference?
    var rows: [QualityRow]

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    func table() -> String {
        var lines = [String(format: "zipar eval: %d image(s) per class of %@; CFG %.1f, temperature %.2f, top-k %d, top-p %.2f; seeds %llu…%llu",
                            per_class, classes, cfg_scale, temperature, top_k, top_p, seed, seed &+ UInt64(per_class - 1)),
                     "classifier: \(classifier)" + referenceInfo, "",
                     "schedule                 passes  inputs/pass  s/image  decode s  accuracy       FD  drafts (accepted)"]
        var lossless: [String] = []
        for r in rows {
            let fd = r.frechet_distance.map { String(format: "%8.1f", $0) } ?? "       -"
            let drafts = r.drafts > 0 ? "\(r.drafts) (\(r.accepted))" : "-"
            lines.append(String(format: "%@ %7.1f  %11.1f  %7.3f  %8.3f  %7.1f %%  %@  %@", r.schedule.padding(toLength: 23, withPad: " ", startingAt: 0),
                                r.passes_per_image, r.inputs_per_pass, r.seconds_per_image, r.decode_seconds_per_image, 100 * r.accuracy, fd, drafts))
            guard let m = r.draft_matches else { continue }
            let sources = DraftSource.allCases.compactMap { s in m.by_source[s.rawValue].map { String(format: "%@ %.3f of %d", s.rawValue, $0.rate, $0.verified) } }
            let ages = m.by_age.enumerated().filter { $1.verified > 0 }
                .map { String(format: "%@%d %.3f", $0 == DraftStatistics.oldestAge ? "≥" : "", $0, $1.rate) }
            lossless.append("\(r.schedule): commits per pass (1, 2, …) \(r.commits_per_pass_histogram.dropFirst().map(String.init).joined(separator: " ")); "
                            + "draft match rate \(String(format: "%.3f", m.total.rate)): \(sources.joined(separator: ", ")); by age \(ages.joined(separator: ", "))")
        }
        lines.append("(passes, s/image (tokens) and decode s (VQ): means per image; FD: Fréchet distance of the classifier's features to held-out real glyphs, lower is better)")
        lines += lossless
        return lines.joined(separator: "\n")
    }

    /// " (96.9 % on held-out real glyphs; FD reference: 8064 real images, heldout split)", as far as known.
    private var referenceInfo: String {
        var parts: [String] = []
        if let a = classifier_heldout_accuracy { parts.append(String(format: "%.1f %% on held-out real glyphs", 100 * a)) }
        if let r = fd_reference {
            parts.append("FD reference: " + (r.images.map { "\($0) real images" } ?? r.file) + (r.split.map { ", \($0) split" } ?? ""))
        }
        return parts.isEmpty ? "" : " (\(parts.joined(separator: "; ")))"
    }
}
