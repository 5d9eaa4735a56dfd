import Foundation

/// One schedule's quality and speed over an image set (`QualityEvaluation.run`).
public struct QualityRow: Codable, Sendable {
    public var schedule: String
    public var images: Int
    /// Mean model passes per image, prefill included.
    public var passes_per_image: Double
    /// Mean seconds per image for the tokens, and for the VQ decode.
    public var seconds_per_image: Double
    public var decode_seconds_per_image: Double
    /// Share of images the classifier assigns to the character they were generated for.
    public var accuracy: Double
    /// Share of images whose glyph / background colour, measured from the pixels (`Palette.measure`), is
    /// the one asked for (nil when the images ask for no colours: class labels).
    public var glyph_color_accuracy: Double?, background_color_accuracy: Double?
    /// Fréchet distance of the classifier features of the images to the reference (held-out real) ones
    /// (nil for fewer than two images).
    public var frechet_distance: Double?
    /// zipar-adaptive: drafts proposed, accepted and rejected, summed over the images.
    public var drafts: Int, accepted: Int, rejected: Int
    /// Mean inputs per pass (each fed to every CFG row).
    public var inputs_per_pass: Double = 0
    /// commits_per_pass_histogram[k]: passes (over all images) that settled k tokens.
    public var commits_per_pass_histogram: [Int] = []
    /// zipar-lossless: how often the drafts its window verified matched, by source and age, over the images.
    public var draft_matches: DraftStatistics?
}

/// One image an evaluation draws: its generation options and what it should show.
public struct EvaluationImage: Sendable {
    public var options: GenerationOptions
    /// The classifier class of the character asked for.
    public var label: Int
    /// The palette indices of the glyph and background colours asked for (nil: not scored).
    public var glyph: Int?, background: Int?

    public init(options: GenerationOptions, label: Int, glyph: Int? = nil, background: Int? = nil) {
        self.options = options
        self.label = label
        self.glyph = glyph
        self.background = background
    }
}

/// Scores schedules by what they draw: generates the same image set (conditions and seeds) with each
/// schedule, decodes it, and measures the classifier's accuracy, the colours (with a palette) and the
/// Fréchet distance of the classifier's features to a reference. Works for any model family.
public final class QualityEvaluation {
    public let generator: ImageGenerator
    public let decoder: any ImageDecoder
    public let pixelMapping: PixelMapping
    public let classifier: GlyphClassifier
    public let reference: FeatureStatistics
    public let palette: Palette?

    /// Checks that the model's images are the classifier's size and the reference its feature width.
    public init(model: any ImageTokenModel, decoder: any ImageDecoder, pixelMapping: PixelMapping = .saveImage,
                classifier: GlyphClassifier, reference: FeatureStatistics, palette: Palette? = nil) throws {
        let height = model.gridHeight * decoder.downsample, width = model.gridWidth * decoder.downsample
        guard height == classifier.config.image_size, width == classifier.config.image_size else {
            throw QualityEvaluationError("the model draws \(width)×\(height) images, the classifier takes \(classifier.config.image_size)×\(classifier.config.image_size)")
        }
        guard reference.dimension == classifier.config.fc_hidden else {
            throw QualityEvaluationError("the reference statistics have \(reference.dimension) features, the classifier \(classifier.config.fc_hidden)")
        }
        generator = ImageGenerator(model: model)
        self.decoder = decoder
        self.pixelMapping = pixelMapping
        self.classifier = classifier
        self.reference = reference
        self.palette = palette
    }

    /// A class model's evaluation: also checks that the model's classes are the classifier's.
    public convenience init(model: GPT, decoder: VQDecoder, classifier: GlyphClassifier, reference: FeatureStatistics) throws {
        guard classifier.config.num_classes == model.config.num_classes else {
            throw QualityEvaluationError("the model has \(model.config.num_classes) classes, the classifier \(classifier.config.num_classes)")
        }
        if let drawn = model.config.labels, let recognised = classifier.config.labels, drawn != recognised {
            throw QualityEvaluationError("the model's classes are \(drawn), the classifier's \(recognised)")
        }
        try self.init(model: model as any ImageTokenModel, decoder: decoder as any ImageDecoder, pixelMapping: .saveImage,
                      classifier: classifier, reference: reference)
    }

    /// `perClass` images of each class in `classes`; image i of every class uses seed `seed + i`, so
    /// schedules are compared on identical random streams.
    public func run(_ spec: ScheduleSpec, classes: [Int], perClass: Int, cfgScale: Float, cfgInterval: Int = -1,
                    sampling: SamplingOptions, seed: UInt64, batchSize: Int = 64,
                    progress: ((Int, Int) -> Bool)? = nil) throws -> QualityRow {
        let images = (0..<perClass).flatMap { i in
            classes.map { EvaluationImage(options: GenerationOptions(classLabel: $0, cfgScale: cfgScale, cfgInterval: cfgInterval,
                                                                    sampling: sampling, seed: seed &+ UInt64(i)), label: $0) }
        }
        return try run(spec, images: images, batchSize: batchSize, progress: progress)
    }

    /// Generates `images` with `spec`, `batchSize` at a time in shared passes (the images are the same
    /// whatever the batch size; seconds per image are the batches' wall time over the images), and scores
    /// them. `progress` gets (images done, images in all) after each batch; returning false cancels.
    public func run(_ spec: ScheduleSpec, images all: [EvaluationImage], batchSize: Int = 64,
                    progress: ((Int, Int) -> Bool)? = nil) throws -> QualityRow {
        precondition(!all.isEmpty && batchSize > 0, "nothing to evaluate")
        var features: [[Float]] = [], correct = 0, glyphs = 0, backgrounds = 0, colored = 0
        var passes = 0, inputs = 0, seconds = 0.0, decodeSeconds = 0.0
        var row = QualityRow(schedule: spec.description, images: 0, passes_per_image: 0, seconds_per_image: 0,
                             decode_seconds_per_image: 0, accuracy: 0, frechet_distance: nil, drafts: 0, accepted: 0, rejected: 0)
        for start in stride(from: 0, to: all.count, by: batchSize) {
            let chunk = Array(all[start..<min(all.count, start + batchSize)])
            let t = Date()
            let results = try generator.generate(spec, batch: chunk.map(\.options))
            seconds += Date().timeIntervalSince(t)
            for (wanted, result) in zip(chunk, results) {
                let t0 = Date()
                let image = try decoder.decode(tokens: result.tokens, height: result.height, width: result.width)
                    .rgbImage(mapping: pixelMapping)
                decodeSeconds += Date().timeIntervalSince(t0)
                let (logits, f) = classifier.classify(image)
                if logits.indices.max(by: { logits[$0] < logits[$1] }) == wanted.label { correct += 1 }
                if let palette, let glyph = wanted.glyph, let background = wanted.background {
                    let seen = palette.measure(image)
                    colored += 1
                    if seen.glyph == glyph { glyphs += 1 }
                    if seen.background == background { backgrounds += 1 }
                }
                features.append(f)
                passes += result.stats.forward_passes
                inputs += result.stats.inputs_per_pass.reduce(0, +)
                let histogram = result.stats.tokensPerPassHistogram
                if row.commits_per_pass_histogram.count < histogram.count {
                    row.commits_per_pass_histogram += [Int](repeating: 0, count: histogram.count - row.commits_per_pass_histogram.count)
                }
                for (k, n) in histogram.enumerated() { row.commits_per_pass_histogram[k] += n }
                if let m = result.stats.draft_matches { row.draft_matches = (row.draft_matches ?? DraftStatistics()).adding(m) }
                row.drafts += result.stats.drafts
                row.accepted += result.stats.accepted
                row.rejected += result.stats.rejected
            }
            if let progress, !progress(features.count, all.count) { throw GenerationError.cancelled }
        }
        let n = Double(features.count)
        row.images = features.count
        row.passes_per_image = Double(passes) / n
        row.inputs_per_pass = Double(inputs) / Double(passes)
        row.seconds_per_image = seconds / n
        row.decode_seconds_per_image = decodeSeconds / n
        row.accuracy = Double(correct) / n
        if colored > 0 {
            row.glyph_color_accuracy = Double(glyphs) / Double(colored)
            row.background_color_accuracy = Double(backgrounds) / Double(colored)
        }
        if features.count >= 2 { row.frechet_distance = frechetDistance(FeatureStatistics(features: features), reference) }
        return row
    }
}

/// A model, decoder and classifier that do not fit together, in one line.
public struct QualityEvaluationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
