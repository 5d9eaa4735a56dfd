import Foundation

/// What to generate and how to sample it.
public struct GenerationOptions: Sendable {
    /// What the image shows: a class label or a prompt, as the model takes.
    public var condition: ImageCondition
    /// Classifier-free guidance scale; guidance runs (a second, unconditional batch row) only when > 1.
    public var cfgScale: Float = 4
    /// With a value ≥ 0, CFG stops after that many tokens (as LlamaGen counts them); −1: always.
    public var cfgInterval: Int = -1
    public var sampling = SamplingOptions()
    public var seed: UInt64 = 0
    /// The unconditional branch's prompt, for a family whose guidance has one (Emu3); nil: the model's own.
    public var negativePrompt: String?

    public init(condition: ImageCondition, cfgScale: Float = 4, cfgInterval: Int = -1,
                sampling: SamplingOptions = SamplingOptions(), seed: UInt64 = 0, negativePrompt: String? = nil) {
        self.condition = condition
        self.cfgScale = cfgScale
        self.cfgInterval = cfgInterval
        self.sampling = sampling
        self.seed = seed
        self.negativePrompt = negativePrompt
    }

    /// Options for a class-conditional image.
    public init(classLabel: Int, cfgScale: Float = 4, cfgInterval: Int = -1,
                sampling: SamplingOptions = SamplingOptions(), seed: UInt64 = 0) {
        self.init(condition: .classLabel(classLabel), cfgScale: cfgScale, cfgInterval: cfgInterval, sampling: sampling, seed: seed)
    }
}

/// Per-image statistics.
public struct GenerationStats: Codable, Sendable {
    public var schedule: String
    /// Model calls, prefill included.
    public var forward_passes: Int
    /// Tokens (grid cells) settled by each pass (zipar-lossless: committed); drafts not yet accepted do not count.
    public var tokens_per_pass: [Int]
    /// tokens_per_pass_histogram[k]: passes that settled k tokens.
    public var tokens_per_pass_histogram: [Int] = []
    /// Inputs fed by each pass (sampled tokens plus discarded ones).
    public var inputs_per_pass: [Int]
    public var seconds: Double
    /// The pass (0: the prefill) that settled each cell, raster order.
    public var cell_pass: [Int] = []
    /// Draft tokens proposed (zipar-adaptive: first drafts and the resampled drafts after rejections).
    public var drafts = 0
    /// Verifications that accepted their draft.
    public var accepted = 0
    /// Verifications that rejected their draft.
    public var rejected = 0
    /// zipar-lossless: how often the drafts its window verified matched, by source and age.
    public var draft_matches: DraftStatistics?
    /// Mean negative log-likelihood per token of the image under the raster model (teacher forcing), when
    /// scored (`ImageGenerator.teacherForcedNLL`).
    public var teacher_nll: Double?

    /// histogram[k]: passes that settled k tokens.
    public var tokensPerPassHistogram: [Int] {
        var histogram = [Int](repeating: 0, count: (tokens_per_pass.max() ?? 0) + 1)
        for k in tokens_per_pass { histogram[k] += 1 }
        return histogram
    }
}

/// The generated token grid and how it was made.
public struct GenerationResult: Sendable {
    public var height: Int, width: Int
    /// Token ids, raster order.
    public var tokens: [Int]
    public var stats: GenerationStats
}

/// Progress after each pass; return false from the callback to cancel.
public struct GenerationProgress: Sendable {
    public var pass: Int
    public var tokensDone: Int
    public var tokensTotal: Int
    /// Each image's token grid after the pass, in batch order (the images that finished included).
    public var grids: [TokenGrid] = []
}

public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case classLabelOutOfRange(Int, classes: Int)
    case guidanceNeedsNullClass
    /// The condition is not the kind the model takes (a prompt for a class model, or the reverse).
    case wrongCondition(expected: String)
    /// The prompt's tokens do not fit the model's context beside the image.
    case promptTooLong(tokens: Int, limit: Int)
    /// A negative prompt for a model whose guidance has none (all but Emu3).
    case noNegativePrompt
    case cancelled

    public var description: String {
        switch self {
        case let .classLabelOutOfRange(l, n): return "class label \(l) is out of range 0…\(n - 1)"
        case .guidanceNeedsNullClass: return "this model has no null class (class_dropout_prob 0): use --cfg-scale 1"
        case .wrongCondition(let expected): return "this model is conditioned on \(expected)"
        case let .promptTooLong(n, limit): return "the prompt is \(n) tokens, more than the \(limit) the model's context leaves beside the image"
        case .noNegativePrompt: return "this model's guidance has no negative prompt (Emu3's has)"
        case .cancelled: return "generation cancelled"
        }
    }
}

/// The generation loop: asks each image's schedule for a pass, runs the model once on all of them (every
/// image in its own cache rows, its CFG pair included), samples each prediction (with CFG) and writes the
/// tokens into the images' grids. Images that finish leave the batch. It does not know which schedule or
/// model family runs, and an image's tokens do not depend on what else is in its batch.
public final class ImageGenerator {
    public let model: any ImageTokenModel
    /// The cache of the last batch, reused (zeroed) when the next one fits.
    private var cache: KVCache?
    private var combined: [Float]
    /// Test hook: every draft verification rejects.
    var rejectAllDrafts = false
    /// Test hook (a deliberately broken sampler): every position picks with the noise of position 0.
    var noiseIgnoresPosition = false

    public init(model: any ImageTokenModel) {
        self.model = model
        combined = [Float](repeating: 0, count: model.imageVocabulary)
    }

    /// The sequence layout an image with `condition` is generated in (schedules are built for it).
    public func layout(for condition: ImageCondition) throws -> SequenceLayout {
        try model.conditioning(condition, guidance: false).layout
    }

    /// The sequence layout of an image generated with `options` (its negative prompt counted).
    public func layout(for options: GenerationOptions) throws -> SequenceLayout {
        guard let negative = options.negativePrompt else { return try layout(for: options.condition) }
        return try model.conditioning(options.condition, guidance: false, schedule: ScheduleSpec.raster.description,
                                      negativePrompt: negative).layout
    }

    /// Generates one image's tokens with a fresh schedule of `spec`.
    public func generate(_ spec: ScheduleSpec, options: GenerationOptions,
                         progress: ((GenerationProgress) -> Bool)? = nil) throws -> GenerationResult {
        try generate(spec, batch: [options], progress: progress)[0]
    }

    /// Generates several images in shared passes, each with a fresh schedule of `spec` and its own options
    /// (condition, seed, sampling); results in the order of `batch`.
    public func generate(_ spec: ScheduleSpec, batch: [GenerationOptions],
                         progress: ((GenerationProgress) -> Bool)? = nil) throws -> [GenerationResult] {
        let jobs = try batch.map { options -> (any DecodingSchedule, GenerationOptions) in
            (spec.schedule(layout: try layout(for: options), cfgInterval: options.cfgInterval), options)
        }
        return try generate(jobs, progress: progress)
    }

    /// Generates one image's tokens with `schedule`, which must be built for `layout(for: options.condition)`.
    public func generate<S: DecodingSchedule>(schedule: inout S, options: GenerationOptions,
                                              progress: ((GenerationProgress) -> Bool)? = nil) throws -> GenerationResult {
        try generate(schedule: &schedule, options: options, guidanceBatch: options.cfgScale > 1, progress: progress)
    }

    /// `guidanceBatch` runs the unconditional batch row even at scale ≤ 1 (for the CFG-scale-1 equivalence test).
    func generate<S: DecodingSchedule>(schedule: inout S, options: GenerationOptions, guidanceBatch: Bool,
                                       progress: ((GenerationProgress) -> Bool)?) throws -> GenerationResult {
        var images = try start([(schedule, options)], guidance: [guidanceBatch])
        try run(&images, progress: progress)
        schedule = images[0].schedule as! S
        return images[0].result()
    }

    /// Generates images with the given schedules (each built for its options' layout) in shared passes.
    public func generate(_ jobs: [(schedule: any DecodingSchedule, options: GenerationOptions)],
                         progress: ((GenerationProgress) -> Bool)? = nil) throws -> [GenerationResult] {
        var images = try start(jobs, guidance: jobs.map { $0.options.cfgScale > 1 })
        try run(&images, progress: progress)
        return images.map { $0.result() }
    }

    /// The images of a batch, each given its cache rows, and a zeroed cache that holds them all.
    private func start(_ jobs: [(schedule: any DecodingSchedule, options: GenerationOptions)], guidance: [Bool]) throws -> [ImageInFlight] {
        var images: [ImageInFlight] = [], rows = 0, slots = 0
        for (job, guided) in zip(jobs, guidance) {
            let conditioning = try model.conditioning(job.options.condition, guidance: guided, schedule: job.schedule.conditionedAs,
                                                      negativePrompt: job.options.negativePrompt)
            images.append(ImageInFlight(schedule: job.schedule, options: job.options, conditioning: conditioning,
                                        cacheRows: Array(rows..<(rows + conditioning.rows.count)), rejectAllDrafts: rejectAllDrafts,
                                        noiseIgnoresPosition: noiseIgnoresPosition))
            rows += conditioning.rows.count
            slots = max(slots, conditioning.layout.slots)
        }
        if let c = cache, c.batch >= rows, c.slots >= slots {
            c.reset()
        } else {
            cache = model.makeCache(batch: rows, slots: slots)
        }
        return images
    }

    /// Runs passes until every image is complete; `progress` sees the tokens of all images together.
    private func run(_ images: inout [ImageInFlight], progress: ((GenerationProgress) -> Bool)?) throws {
        let cache = self.cache!
        var conditions = [[Int]](repeating: [], count: cache.batch)
        for image in images { for (r, row) in image.conditions.enumerated() { conditions[image.cacheRows[r]] = row } }
        let total = images.reduce(0) { $0 + $1.grid.cells.count }
        var done = 0, passes = 0
        while true {
            let active = images.indices.filter { images[$0].advance() }
            if active.isEmpty { return }
            done += runPlanned(&images, active: active, conditions: conditions, cache: cache)
            passes += 1
            if let progress, !progress(GenerationProgress(pass: passes, tokensDone: done, tokensTotal: total,
                                                                    grids: images.map(\.grid))) {
                throw GenerationError.cancelled
            }
        }
    }

    /// Runs the model once on the planned passes of `images[active]` (each in its own cache rows) and
    /// samples each image's predictions; returns the cells settled.
    func runPlanned(_ images: inout [ImageInFlight], active: [Int], conditions: [[Int]], cache: KVCache) -> Int {
        var batch: [BatchInput] = [], logitsFor: [Int] = []
        for i in active { images[i].append(into: &batch, logitsFor: &logitsFor) }
        let logits = model.forward(batch: batch, conditions: conditions, cache: cache, logitsFor: logitsFor)
        let vocab = model.imageVocabulary
        var first = 0, settled = 0
        for i in active {
            settled += combined.withUnsafeMutableBufferPointer { images[i].apply(logits.baseAddress!, first: first, vocab: vocab, scratch: $0) }
            first += images[i].logitRows
        }
        return settled
    }
}
