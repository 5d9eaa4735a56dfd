/// Applies one prediction of a pass to the grid: picks the cell's token, a draft, or the verdict on a
/// draft. Every token is `Sampler.pick` with the image's Gumbel noise at the cell, so a cell picked from the
/// same logits gets the same token in every schedule and pass. Counts drafts and verdicts.
struct PredictionSampler {
    private var sampler: Sampler
    private let noise: GumbelNoise
    /// Test hook: every verification rejects (zipar-adaptive then gives raster's tokens).
    let rejectAllDrafts: Bool
    /// Test hook (a deliberately broken sampler): every cell picks with the noise of cell 0.
    let noiseIgnoresPosition: Bool
    private(set) var drafts = 0, accepted = 0, rejected = 0

    init(sampling: SamplingOptions, seed: UInt64, rejectAllDrafts: Bool, noiseIgnoresPosition: Bool = false) {
        sampler = Sampler(sampling)
        noise = GumbelNoise(seed: seed)
        self.rejectAllDrafts = rejectAllDrafts
        self.noiseIgnoresPosition = noiseIgnoresPosition
    }

    /// Applies `prediction`, whose (guided) logits are in `logits` (overwritten), to `grid`. Returns true
    /// when it accepted a draft (a verification or a commit that found the token it was fed).
    @discardableResult
    mutating func apply(_ prediction: DecodingPass.Prediction, logits: UnsafeMutableBufferPointer<Float>,
                        to grid: inout TokenGrid) -> Bool {
        let cell = prediction.cell
        let token = sampler.pick(logits, noise: noise, position: noiseIgnoresPosition ? 0 : cell)
        switch prediction.kind {
        case .sample:
            grid[cell] = token
        case .draft:
            guard grid[cell] == nil else { return false }
            grid.drafts[cell] = token
            drafts += 1
        case .verify(let last):
            // Gumbel coupling: the draft was picked with this cell's noise from a smaller context; it stands
            // iff the larger context picks it too (greedy: iff it is the new argmax).
            let ok = token == grid.drafts[cell]! && !rejectAllDrafts
            if ok { accepted += 1 } else { rejected += 1 }
            if ok || last {
                grid[cell] = token
                grid.drafts[cell] = nil
            } else {
                grid.drafts[cell] = token
                drafts += 1
            }
            return ok
        case .commit(let fed):
            grid[cell] = token
            grid.drafts[cell] = nil
            guard let fed else { return false }
            if token == fed { accepted += 1 } else { rejected += 1 }
            return token == fed
        }
        return false
    }
}
