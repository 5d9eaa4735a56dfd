import Foundation

/// The exactness test of zipar-lossless's sampler (docs/schedules.md, "zipar-lossless"): on a tiny engine
/// model (a 2-layer, 32-wide LlamaGen with random weights, 3 image tokens, a 2×2 grid: 81 possible grids)
/// the grids zipar-lossless draws for seeds 0 … n−1 are counted and compared with the exact raster joint
/// (teacher-forced conditionals, warped as sampling warps them) by a χ² test at p = 0.001. Deliberately
/// broken variants must fail it.
public struct LosslessChiSquare {
    /// What is sampled.
    public enum Variant: String, CaseIterable, Sendable {
        /// zipar-lossless as shipped.
        case lossless
        /// Broken: every window output commits, whether or not the drafts before it matched (commits from
        /// draft views, which is what ZipAR without verification does).
        case commitsFromDraftViews = "commits-from-draft-views"
        /// Broken: every cell picks with the noise of cell 0 (one uniform per id reused across positions).
        case noiseReusedAcrossPositions = "noise-reused-across-positions"
    }

    /// A test's outcome: χ², degrees of freedom (bins with fewer than 5 expected grids pooled into one),
    /// the critical value at p = 0.001 and the verdict.
    public struct Result: Sendable {
        public let variant: Variant
        public let samples: Int
        public let chiSquare: Double, degreesOfFreedom: Int, critical: Double
        public var passes: Bool { chiSquare < critical }
    }

    public let generator: ImageGenerator
    public let options: GenerationOptions
    /// The schedule sampled: a window of 3, so free copies and stale window outputs are verified (a 2×2
    /// grid leaves no slot outside the window for a wavefront input; the seed-for-seed tests cover those).
    public let spec = ScheduleSpec.ziparLossless(verifyWindow: 3, draftLag: 1, draftRows: 2)
    /// P(grid) under raster sampling, grid index Σ xₙ·3ⁿ.
    public let joint: [Double]

    /// The tiny model (weights std 0.2 from a fixed seed: conditionals far from uniform and from each other),
    /// class 1, no guidance, temperature 1.
    public init() throws {
        var c = GPTConfig()
        c.dim = 32; c.n_layer = 2; c.n_head = 2; c.multiple_of = 16
        c.vocab_size = 3; c.block_size = 4; c.num_classes = 2; c.class_dropout_prob = 0
        try c.validate(file: "the χ² test's tiny model")
        var rng = RandomSource(seed: 12)
        let weights = GPTWeights(shapesOf: c, precision: .float32) { rows, cols in (0..<rows * cols).map { _ in rng.nextGaussian() * 0.2 } }
        generator = ImageGenerator(model: GPT(config: c, weights: weights))
        options = GenerationOptions(classLabel: 1, cfgScale: 1, sampling: SamplingOptions(temperature: 1))
        joint = try LosslessChiSquare.exactJoint(generator, options: options)
    }

    /// Counts the grids of seeds 0 ..< `samples` drawn by `variant` and tests them against the joint.
    public func run(_ variant: Variant, samples: Int) throws -> Result {
        generator.noiseIgnoresPosition = variant == .noiseReusedAcrossPositions
        defer { generator.noiseIgnoresPosition = false }
        let layout = try generator.layout(for: options.condition)
        var counts = [Int](repeating: 0, count: 81)
        for start in stride(from: 0, to: samples, by: 4096) {
            let jobs = (start..<min(samples, start + 4096)).map { seed -> (schedule: any DecodingSchedule, options: GenerationOptions) in
                var schedule = ZipARLosslessSchedule(layout: layout, verifyWindow: 3, draftLag: 1, draftRows: 2)
                schedule.trustsDrafts = variant == .commitsFromDraftViews
                var o = options
                o.seed = UInt64(seed)
                return (schedule, o)
            }
            for result in try generator.generate(jobs) { counts[LosslessChiSquare.index(result.tokens)] += 1 }
        }
        var chi2 = 0.0, bins = 0, pooledExpected = 0.0, pooledCount = 0
        for (count, p) in zip(counts, joint) {
            let expected = p * Double(samples)
            if expected < 5 { pooledExpected += expected; pooledCount += count; continue }
            chi2 += (Double(count) - expected) * (Double(count) - expected) / expected
            bins += 1
        }
        if pooledExpected > 0 {
            chi2 += (Double(pooledCount) - pooledExpected) * (Double(pooledCount) - pooledExpected) / pooledExpected
            bins += 1
        }
        return Result(variant: variant, samples: samples, chiSquare: chi2, degreesOfFreedom: bins - 1,
                      critical: LosslessChiSquare.critical(bins - 1))
    }

    /// χ²₀.₉₉₉ for `dof` degrees of freedom (Wilson–Hilferty; within 0.5 % of the table from 10 on: 124.8 at 80).
    public static func critical(_ dof: Int) -> Double {
        let k = Double(dof), z = 3.090232
        return k * pow(1 - 2 / (9 * k) + z * (2 / (9 * k)).squareRoot(), 3)
    }

    static func index(_ tokens: [Int]) -> Int { tokens.reversed().reduce(0) { $0 * 3 + $1 } }

    /// The raster joint from one teacher-forced pass per grid.
    private static func exactJoint(_ generator: ImageGenerator, options: GenerationOptions) throws -> [Double] {
        let layout = try generator.layout(for: options.condition)
        let conditions = try generator.model.conditioning(options.condition, guidance: false).rows
        var sampler = Sampler(options.sampling)
        return (0..<81).map { grid in
            let tokens = (0..<4).map { n in (0..<n).reduce(grid) { q, _ in q / 3 } % 3 }
            let cache = generator.model.makeCache(batch: 1, slots: layout.slots)
            let inputs = layout.prefill().inputs
                + tokens.dropLast().enumerated().map { ModelInput(.token($1), position: layout.conditionTokens + $0) }
            let logits = generator.model.forward(inputs, conditions: conditions, cache: cache, visibility: .staticCausal,
                                                 logitsFor: Array((layout.conditionTokens - 1)..<inputs.count))
            var p = 1.0
            for (n, x) in tokens.enumerated() {
                var l = Array(logits[(n * 3)..<(n * 3 + 3)])
                l.withUnsafeMutableBufferPointer { sampler.warp($0); softmax($0) }
                p *= Double(l[x])
            }
            return p
        }
    }
}
