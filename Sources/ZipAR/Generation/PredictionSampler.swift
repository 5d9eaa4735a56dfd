/// Applies one prediction of a pass to the grid: samples the cell's token, samples a draft and keeps its
/// distribution, or verifies a draft by speculative sampling. Counts drafts and verdicts.
struct PredictionSampler {
    private var sampler: Sampler
    private var rng: RandomSource
    /// Test hook: every verification rejects (greedy decoding then gives raster's tokens).
    let rejectAllDrafts: Bool
    private(set) var drafts = 0, accepted = 0, rejected = 0
    /// The distribution of each open draft (by cell), for its next verification; unused under greedy.
    private var draftDistributions: [Int: [Float]] = [:]

    init(sampling: SamplingOptions, seed: UInt64, rejectAllDrafts: Bool) {
        sampler = Sampler(sampling)
        rng = RandomSource(seed: seed)
        self.rejectAllDrafts = rejectAllDrafts
    }

    /// Applies `prediction`, whose (guided) logits are in `logits` (overwritten), to `grid`. Returns true
    /// when it is a verification that accepted its draft.
    @discardableResult
    mutating func apply(_ prediction: DecodingPass.Prediction, logits: UnsafeMutableBufferPointer<Float>,
                        to grid: inout TokenGrid) -> Bool {
        let cell = prediction.cell
        switch prediction.kind {
        case .sample:
            grid[cell] = sampler.sample(logits, rng: &rng)
        case .draft:
            grid.drafts[cell] = sampler.sample(logits, rng: &rng)
            if !sampler.options.isGreedy { draftDistributions[cell] = Array(logits) }
            drafts += 1
        case .verify(let last):
            let (token, ok) = verify(grid.drafts[cell]!, cell: cell, logits: logits)
            if ok { accepted += 1 } else { rejected += 1 }
            if ok || last {
                grid[cell] = token
                grid.drafts[cell] = nil
                draftDistributions[cell] = nil
            } else {
                grid.drafts[cell] = token
                if !sampler.options.isGreedy { draftDistributions[cell] = Array(logits) }
                drafts += 1
            }
            return ok
        }
        return false
    }

    /// Speculative sampling of `draft` (drawn from the kept distribution q) against p, the distribution of
    /// `logits` (left in `logits`): accepted with probability min(1, p(x)/q(x)), else a token from the
    /// residual max(0, p − q), normalised (p itself if that is empty). Greedy: accepted iff the draft is
    /// p's argmax, else the argmax.
    private mutating func verify(_ draft: Int, cell: Int, logits: UnsafeMutableBufferPointer<Float>) -> (Int, Bool) {
        if sampler.options.isGreedy {
            let best = argmax(UnsafeBufferPointer(logits))
            return (best, best == draft && !rejectAllDrafts)
        }
        sampler.probabilities(logits)
        var q = draftDistributions[cell]!
        let ratio = logits[draft] / q[draft]  // q[draft] > 0: the draft was drawn from q
        if Float(rng.nextUniform()) < ratio && !rejectAllDrafts { return (draft, true) }
        var total: Float = 0
        for v in 0..<q.count {
            q[v] = max(0, logits[v] - q[v])
            total += q[v]
        }
        guard total > 0 else { return (draw(UnsafeBufferPointer(logits), rng: &rng), false) }
        for v in 0..<q.count { q[v] /= total }
        return (q.withUnsafeBufferPointer { draw($0, rng: &rng) }, false)
    }
}
