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
        arguments: the embedded glyph model and its classifier. With --prompts: the embedded text glyph \
        model (or --model DIR, another one) on held-out captions, also scoring the glyph and background colours.
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

    @Flag(help: "Score a text-to-image model instead (the embedded text glyph model, or --model DIR; docs/text-model.md): held-out captions (--captions) drawn with each schedule, caption i with seed --seed + i; character accuracy, glyph and background colour accuracy (measured from the pixels against the captions' palette) and FD (against the model folder's fd_reference.safetensors when it has one).")
    var prompts = false

    @Option(help: ArgumentHelp("Captions file for --prompts (default: the model folder's eval_captions.json).", valueName: "file"))
    var captions: String?

    @Option(help: "Captions scored with --prompts (default: all in the file).")
    var count: Int?

    @Flag(help: "Print one JSON object (settings and a row per schedule) instead of the table.")
    var json = false

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func validate() throws {
        try checkFlag("--per-class", perClass, { (1...maxImages).contains($0) }, "must lie in 1…\(maxImages)")
        try checkFlag("--batch-size", batchSize, { $0 >= 1 }, "must be 1 or more")
        try checkFlag("--count", count, { (1...EvalCaptions.maxCaptions).contains($0) }, "must lie in 1…\(EvalCaptions.maxCaptions)")
        if !prompts {
            for (flag, given) in [("--captions", captions != nil), ("--count", count != nil), ("--model", gpt.model != nil)] where given {
                throw ValidationError("\(flag) needs --prompts (text-to-image evaluation)")
            }
        } else if classes != nil {
            throw ValidationError("--classes applies to class models; --prompts draws the captions")
        }
    }

    func run() throws {
        if prompts { return try runPrompts() }
        let model = try gpt.load()
        let specs = try scheduleSpecs(width: model.config.gridSize)
        let labels = try classes.map { try Generate.classes($0, config: model.config) } ?? Array(0..<model.config.num_classes)
        if let twice = labels.indices.first(where: { labels[..<$0].contains(labels[$0]) }) {
            throw UsageError("--classes: class '\(model.config.labelName(labels[twice]))' is given twice")
        }
        let sampling = try samplingFlags.resolved(with: try gpt.samplingDefaults())
        let (folder, glyphs) = try loadClassifier()
        let reference = try FeatureStatistics(file: (folder as NSString).appendingPathComponent(glyphs.config.referenceFile))
        let evaluation: QualityEvaluation
        do {
            evaluation = try QualityEvaluation(model: model, decoder: try vq.load(), classifier: glyphs, reference: reference)
        } catch let error as QualityEvaluationError {
            throw UsageError("--classifier \(folder): \(error.description)")
        }
        let rows = try specs.map { spec in
            try withProgress(spec) { progress in
                try evaluation.run(spec, classes: labels, perClass: perClass, cfgScale: sampling.cfgScale,
                                   sampling: sampling.options, seed: seed, batchSize: batchSize, progress: progress)
            }
        }
        let fdReference = glyphs.config.fd_reference.map { r in
            (r.images.map { "\($0) real images" } ?? r.file) + (r.split.map { ", \($0) split" } ?? "")
        } ?? glyphs.config.referenceFile
        print(try report(sampling, glyphs: glyphs, fdReference: fdReference, rows: rows,
                         drawn: EvalReport.Drawn(perClass: perClass, classes: labels.map(model.config.labelName).joined(separator: ","))))
    }

    /// --prompts: the text-to-image model on held-out captions.
    func runPrompts() throws {
        let folder = try gpt.textModelDirectory()
        let family = try gpt.loadTextModel(vq: vq)
        let specs = try scheduleSpecs(width: family.model.gridWidth)
        let (classifierFolder, glyphs) = try loadClassifier()
        guard let labels = glyphs.config.labels else {
            throw UsageError("--classifier \(classifierFolder): its config.json names no labels (the characters of its classes), which --prompts needs")
        }
        let captionsFile = captions ?? (folder as NSString).appendingPathComponent("eval_captions.json")
        guard FileManager.default.fileExists(atPath: captionsFile) else {
            throw UsageError(captions == nil ? "--prompts: \(folder) has no eval_captions.json; give --captions FILE" : "--captions \(captionsFile): no such file")
        }
        let file = try EvalCaptions.read(captionsFile, labels: labels)
        let modelReference = (folder as NSString).appendingPathComponent("fd_reference.safetensors")
        let referenceFile = FileManager.default.fileExists(atPath: modelReference)
            ? modelReference : (classifierFolder as NSString).appendingPathComponent(glyphs.config.referenceFile)
        let sampling = try samplingFlags.resolved(with: family.sampling)
        let evaluation: QualityEvaluation
        do {
            evaluation = try QualityEvaluation(model: family.model, decoder: family.decoder, pixelMapping: family.pixelMapping,
                                               classifier: glyphs, reference: try FeatureStatistics(file: referenceFile),
                                               palette: Palette(colors: file.palette))
        } catch let error as QualityEvaluationError {
            throw UsageError("--classifier \(classifierFolder): \(error.description)")
        }
        let images = file.images(count: count ?? file.captions.count, labels: labels, cfgScale: sampling.cfgScale,
                                 sampling: sampling.options, seed: seed)
        let rows = try specs.map { spec in
            try withProgress(spec) { progress in try evaluation.run(spec, images: images, batchSize: batchSize, progress: progress) }
        }
        print(try report(sampling, glyphs: glyphs, fdReference: referenceFile == modelReference ? "the model folder's fd_reference.safetensors" : referenceFile,
                         rows: rows, drawn: EvalReport.Drawn(captions: captionsFile,
                                                             captionCount: images.count)))
    }

    /// --schedules, with --row-start applied.
    func scheduleSpecs(width: Int) throws -> [ScheduleSpec] {
        var specs: [ScheduleSpec]
        do {
            specs = try ScheduleSpec.parseList(schedules, width: width)
        } catch let error as ScheduleSpecError {
            throw UsageError("--schedules \(error.description)")
        }
        if let rowStart {
            guard let start = RowStart(rawValue: rowStart) else {
                throw UsageError("--row-start '\(rowStart)': expected \(RowStart.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            specs = specs.map { $0.withRowStart(start) }
        }
        return specs
    }

    /// The --classifier folder (or the embedded one) and its classifier.
    func loadClassifier() throws -> (String, GlyphClassifier) {
        let folder = try classifier ?? DefaultModel.directory("classifier")
        return (folder, try GlyphClassifier(directory: folder))
    }

    /// Runs `body` with a progress line on stderr (unless --quiet).
    func withProgress(_ spec: ScheduleSpec, _ body: (@escaping (Int, Int) -> Bool) throws -> QualityRow) throws -> QualityRow {
        let line = ProgressLine(enabled: !quiet)
        defer { line.finish() }
        return try body { done, total in
            line.show("\(spec): image \(done)/\(total)")
        }
    }

    func report(_ sampling: (cfgScale: Float, options: SamplingOptions), glyphs: GlyphClassifier, fdReference: String,
                rows: [QualityRow], drawn: EvalReport.Drawn) throws -> String {
        let report = EvalReport(per_class: drawn.perClass, classes: drawn.classes, captions: drawn.captions,
                                caption_count: drawn.captionCount, cfg_scale: sampling.cfgScale, temperature: sampling.options.temperature,
                                top_k: sampling.options.topK, top_p: sampling.options.topP, seed: seed,
                                classifier: classifier ?? "embedded default",
                                classifier_heldout_accuracy: glyphs.config.heldout_accuracy,
                                fd_reference: fdReference, rows: rows)
        return json ? try report.json() : report.table()
    }
}

/// What `zipar eval` prints: its settings and one row per schedule.
struct EvalReport: Codable {
    /// What was drawn: classes (per_class images of each) or captions (caption_count of the file).
    struct Drawn {
        var perClass: Int?, classes: String?, captions: String?, captionCount: Int?
    }

    var per_class: Int?, classes: String?, captions: String?, caption_count: Int?
    var cfg_scale: Float, temperature: Float, top_k: Int, top_p: Float, seed: UInt64
    var classifier: String
    /// The classifier's accuracy on held-out real glyphs (from its config.json, when given) and what the FD
    /// reference statistics were taken from.
    var classifier_heldout_accuracy: Double?, fd_reference: String
    var rows: [QualityRow]

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    func table() -> String {
        let images = caption_count ?? per_class ?? 0
        let what = captions.map { "\(images) caption(s) of \($0)" } ?? "\(images) image(s) per class of \(classes ?? "")"
        var lines = [String(format: "zipar eval: %@; CFG %.1f, temperature %.2f, top-k %d, top-p %.2f; seeds %llu…%llu",
                            what, cfg_scale, temperature, top_k, top_p, seed, seed &+ UInt64(max(images, 1) - 1)),
                     "classifier: \(classifier)" + referenceInfo, ""]
        let colors = rows.contains { $0.glyph_color_accuracy != nil }
        lines.append("schedule                 passes  inputs/pass  s/image  decode s  " + (colors ? "character  glyph col  bg col" : "accuracy")
                     + "       FD  drafts (accepted)")
        func percent(_ x: Double?) -> String { x.map { String(format: "%7.1f %%", 100 * $0) } ?? "      -  " }
        var lossless: [String] = []
        for r in rows {
            let fd = r.frechet_distance.map { String(format: "%8.1f", $0) } ?? "       -"
            let drafts = r.drafts > 0 ? "\(r.drafts) (\(r.accepted))" : "-"
            let scores = colors ? "  \(percent(r.accuracy))  \(percent(r.glyph_color_accuracy)) \(percent(r.background_color_accuracy))" : percent(r.accuracy)
            lines.append(String(format: "%@ %7.1f  %11.1f  %7.3f  %8.3f  %@  %@  %@", r.schedule.padding(toLength: 23, withPad: " ", startingAt: 0),
                                r.passes_per_image, r.inputs_per_pass, r.seconds_per_image, r.decode_seconds_per_image, scores, fd, drafts))
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
        parts.append("FD reference: " + fd_reference)
        return " (\(parts.joined(separator: "; ")))"
    }
}
