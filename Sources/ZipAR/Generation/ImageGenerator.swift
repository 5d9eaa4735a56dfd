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

    public init(condition: ImageCondition, cfgScale: Float = 4, cfgInterval: Int = -1,
                sampling: SamplingOptions = SamplingOptions(), seed: UInt64 = 0) {
        self.condition = condition
        self.cfgScale = cfgScale
        self.cfgInterval = cfgInterval
        self.sampling = sampling
        self.seed = seed
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
    /// Tokens (grid cells) settled by each pass; drafts not yet accepted do not count.
    public var tokens_per_pass: [Int]
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
}

public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case classLabelOutOfRange(Int, classes: Int)
    case guidanceNeedsNullClass
    /// The condition is not the kind the model takes (a prompt for a class model, or the reverse).
    case wrongCondition(expected: String)
    /// The prompt's tokens do not fit the model's context beside the image.
    case promptTooLong(tokens: Int, limit: Int)
    case cancelled

    public var description: String {
        switch self {
        case let .classLabelOutOfRange(l, n): return "class label \(l) is out of range 0…\(n - 1)"
        case .guidanceNeedsNullClass: return "this model has no null class (class_dropout_prob 0): use --cfg-scale 1"
        case .wrongCondition(let expected): return "this model is conditioned on \(expected)"
        case let .promptTooLong(n, limit): return "the prompt is \(n) tokens, more than the \(limit) the model's context leaves beside the image"
        case .cancelled: return "generation cancelled"
        }
    }
}

/// The generation loop: asks the schedule for a pass, runs the model on it, samples each prediction (with
/// CFG) and writes the tokens into the grid. It does not know which schedule or model family runs.
public final class ImageGenerator {
    public let model: any ImageTokenModel
    /// One cache per batch size, grown when a condition needs more slots.
    private var caches: [Int: KVCache] = [:]
    private var combined: [Float]
    /// Test hook: every draft verification rejects.
    var rejectAllDrafts = false

    public init(model: any ImageTokenModel) {
        self.model = model
        combined = [Float](repeating: 0, count: model.imageVocabulary)
    }

    /// The sequence layout an image with `condition` is generated in (schedules are built for it).
    public func layout(for condition: ImageCondition) throws -> SequenceLayout {
        try model.conditioning(condition, guidance: false).layout
    }

    /// Generates one image's tokens with a fresh schedule of `spec`.
    public func generate(_ spec: ScheduleSpec, options: GenerationOptions,
                         progress: ((GenerationProgress) -> Bool)? = nil) throws -> GenerationResult {
        var schedule = spec.schedule(layout: try layout(for: options.condition), cfgInterval: options.cfgInterval)
        return try generate(schedule: &schedule, options: options, progress: progress)
    }

    /// Generates one image's tokens with `schedule`, which must be built for `layout(for: options.condition)`.
    public func generate(schedule: inout some DecodingSchedule, options: GenerationOptions,
                         progress: ((GenerationProgress) -> Bool)? = nil) throws -> GenerationResult {
        try generate(schedule: &schedule, options: options, guidanceBatch: options.cfgScale > 1, progress: progress)
    }

    /// A zeroed cache for `batch` rows with at least `slots` positions.
    func cache(batch: Int, slots: Int) -> KVCache {
        if let c = caches[batch], c.slots >= slots {
            c.reset()
            return c
        }
        let c = model.makeCache(batch: batch, slots: slots)
        caches[batch] = c
        return c
    }

    /// `guidanceBatch` runs the unconditional batch row even at scale ≤ 1 (for the CFG-scale-1 equivalence test).
    func generate(schedule: inout some DecodingSchedule, options: GenerationOptions, guidanceBatch: Bool,
                  progress: ((GenerationProgress) -> Bool)?) throws -> GenerationResult {
        let conditioning = try model.conditioning(options.condition, guidance: guidanceBatch)
        let layout = conditioning.layout, conditions = conditioning.rows
        let cache = cache(batch: conditions.count, slots: layout.slots)

        let start = Date()
        var grid = TokenGrid(height: layout.height, width: layout.width)
        var sampling = PredictionSampler(sampling: options.sampling, seed: options.seed, rejectAllDrafts: rejectAllDrafts)
        var stats = GenerationStats(schedule: schedule.name, forward_passes: 0, tokens_per_pass: [], inputs_per_pass: [], seconds: 0,
                                    cell_pass: [Int](repeating: -1, count: grid.cells.count))
        var done = 0
        let vocab = model.imageVocabulary
        while let pass = schedule.nextPass(grid) {
            let logits = model.forward(pass.inputs, conditions: conditions, cache: cache, visibility: pass.visibility,
                                       logitsFor: pass.predictions.map(\.input))
            let m = pass.predictions.count
            var settled = 0
            var accepted: Set<Int> = []
            for (j, prediction) in pass.predictions.enumerated() {
                if let draft = prediction.ifAccepted, !accepted.contains(draft) { continue }
                combined.withUnsafeMutableBufferPointer { out in
                    let cond = logits.baseAddress! + j * vocab
                    if guidanceBatch && pass.guidance {
                        let uncond = cond + m * vocab
                        let scale = options.cfgScale
                        for v in 0..<vocab { out[v] = uncond[v] + (cond[v] - uncond[v]) * scale }
                    } else {
                        out.baseAddress!.update(from: cond, count: vocab)
                    }
                    let wasEmpty = grid[prediction.cell] == nil
                    if sampling.apply(prediction, logits: out, to: &grid) { accepted.insert(prediction.cell) }
                    if wasEmpty && grid[prediction.cell] != nil {
                        stats.cell_pass[prediction.cell] = stats.forward_passes
                        settled += 1
                    }
                }
            }
            schedule.passDidFinish(pass, grid: grid)
            done += settled
            stats.forward_passes += 1
            stats.tokens_per_pass.append(settled)
            stats.inputs_per_pass.append(pass.inputs.count)
            if let progress, !progress(GenerationProgress(pass: stats.forward_passes, tokensDone: done, tokensTotal: grid.cells.count)) {
                throw GenerationError.cancelled
            }
        }
        stats.drafts = sampling.drafts
        stats.accepted = sampling.accepted
        stats.rejected = sampling.rejected
        stats.seconds = Date().timeIntervalSince(start)
        return GenerationResult(height: grid.height, width: grid.width, tokens: grid.cells.map { $0 ?? 0 }, stats: stats)
    }
}
