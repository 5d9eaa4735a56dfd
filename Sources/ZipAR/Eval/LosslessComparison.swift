/// zipar-lossless against raster image for image: the same options (condition, seed, sampling) through
/// both, and every image whose tokens differ reported with the cell where they first differ and how close
/// raster's decision there was (the gap between the top two noised scores of its pick: a real bug shows a
/// wide gap, a numerical near-tie a tiny one).
public struct LosslessComparison {
    /// One image whose zipar-lossless tokens differ from raster's.
    public struct Mismatch: Sendable {
        public let spec: ScheduleSpec
        public let options: GenerationOptions
        public let cell: Int
        public let gap: Double
    }

    public let generator: ImageGenerator

    public init(generator: ImageGenerator) { self.generator = generator }

    /// Generates `batch` with raster and with each of `specs` (in batches of `batchSize`); returns the
    /// mismatches and the zipar-lossless statistics of every spec's images.
    public func compare(_ batch: [GenerationOptions], specs: [ScheduleSpec], batchSize: Int,
                        progress: (Int) -> Void = { _ in }) throws -> (mismatches: [Mismatch], stats: [[GenerationStats]]) {
        var mismatches: [Mismatch] = [], stats = [[GenerationStats]](repeating: [], count: specs.count)
        var done = 0
        for start in stride(from: 0, to: batch.count, by: batchSize) {
            let chunk = Array(batch[start..<min(batch.count, start + batchSize)])
            let raster = try generator.generate(.raster, batch: chunk)
            for (s, spec) in specs.enumerated() {
                for (options, (got, want)) in zip(chunk, zip(try generator.generate(spec, batch: chunk), raster)) {
                    stats[s].append(got.stats)
                    guard let cell = got.tokens.indices.first(where: { got.tokens[$0] != want.tokens[$0] }) else { continue }
                    mismatches.append(Mismatch(spec: spec, options: options, cell: cell,
                                               gap: try decisionGap(tokens: want.tokens, cell: cell, options: options)))
                }
            }
            done += chunk.count
            progress(done)
        }
        return (mismatches, stats)
    }

    /// The top-two gap of raster's pick at `cell`, from one teacher-forced pass over `tokens` before it.
    public func decisionGap(tokens: [Int], cell: Int, options: GenerationOptions) throws -> Double {
        let guided = options.cfgScale > 1
        let conditioning = try generator.model.conditioning(options.condition, guidance: guided)
        let layout = conditioning.layout, vocab = generator.model.imageVocabulary
        let cache = generator.model.makeCache(batch: conditioning.rows.count, slots: layout.slots)
        let inputs = layout.prefill().inputs
            + tokens[..<cell].enumerated().map { ModelInput(.token($1), position: layout.conditionTokens + $0) }
        let logits = generator.model.forward(inputs, conditions: conditioning.rows, cache: cache, visibility: .staticCausal,
                                             logitsFor: [inputs.count - 1])
        var mixed = [Float](repeating: 0, count: vocab)
        let guide = guided && DecodingPass.guidance(tokensDone: cell, cfgInterval: options.cfgInterval)
        for v in 0..<vocab { mixed[v] = guide ? logits[vocab + v] + (logits[v] - logits[vocab + v]) * options.cfgScale : logits[v] }
        var sampler = Sampler(options.sampling)
        let (first, second) = mixed.withUnsafeMutableBufferPointer {
            sampler.topTwoScores($0, noise: GumbelNoise(seed: options.seed), position: cell)
        }
        return first - second
    }
}
