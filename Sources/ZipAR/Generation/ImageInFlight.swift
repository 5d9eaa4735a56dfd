import Foundation

/// One image being generated in a batch: its schedule, grid, sampler and statistics, and the cache rows
/// its condition rows occupy (one, or two with guidance). The generation loop asks it for its part of each
/// pass and hands it back the logits of its predictions.
struct ImageInFlight {
    var schedule: any DecodingSchedule
    let options: GenerationOptions
    let conditions: [[Int]]
    /// The cache row of each of `conditions`.
    let cacheRows: [Int]
    let guided: Bool
    var grid: TokenGrid
    var sampling: PredictionSampler
    var stats: GenerationStats
    /// The pass planned for the current batch pass, nil once the grid is complete.
    private(set) var pass: DecodingPass?
    /// The schedule's lead passes (`DecodingSchedule.leadPasses(for:)`, by default the layout's), run before
    /// its first pass.
    private let leadPasses: [DecodingPass]
    private var leadPassesRun = 0
    let start = Date()

    init(schedule: any DecodingSchedule, options: GenerationOptions, conditioning: Conditioning, cacheRows: [Int], rejectAllDrafts: Bool,
         noiseIgnoresPosition: Bool = false) {
        self.schedule = schedule
        self.options = options
        conditions = conditioning.rows
        precondition(cacheRows.count == conditioning.rows.count, "one cache row per condition row")
        self.cacheRows = cacheRows
        guided = conditioning.rows.count > 1
        grid = TokenGrid(height: conditioning.layout.height, width: conditioning.layout.width)
        leadPasses = schedule.leadPasses(for: conditioning.layout)
        sampling = PredictionSampler(sampling: options.sampling, seed: options.seed, rejectAllDrafts: rejectAllDrafts,
                                     noiseIgnoresPosition: noiseIgnoresPosition)
        stats = GenerationStats(schedule: schedule.name, forward_passes: 0, tokens_per_pass: [], inputs_per_pass: [], seconds: 0,
                                cell_pass: [Int](repeating: -1, count: grid.cells.count))
    }

    /// Plans the next pass (`pass`); false when the image is done.
    mutating func advance() -> Bool {
        pass = leadPassesRun < leadPasses.count ? leadPasses[leadPassesRun] : schedule.nextPass(grid)
        return pass != nil
    }

    /// Appends the planned pass's inputs (once per cache row) to `batch` and the batch indices of its
    /// predictions' inputs (conditional row first, per prediction) to `logitsFor`.
    func append(into batch: inout [BatchInput], logitsFor: inout [Int]) {
        guard let pass else { return }
        let batchStart = batch.count, n = pass.inputs.count
        for r in conditions.indices {
            batch += pass.inputs.map { BatchInput($0, row: cacheRows[r], visibility: pass.visibility) }
        }
        for p in pass.predictions {
            for r in conditions.indices { logitsFor.append(batchStart + r * n + p.input) }
        }
    }

    /// Samples the planned pass's predictions from `logits` (rows in the order `plan` listed them, starting
    /// at `first`), mixing in the unconditional row when guided; `scratch` holds one vocabulary of floats.
    /// Returns the cells settled.
    mutating func apply(_ logits: UnsafePointer<Float>, first: Int, vocab: Int, scratch: UnsafeMutableBufferPointer<Float>) -> Int {
        let pass = self.pass!, rows = conditions.count
        var settled = 0
        var accepted: Set<Int> = []
        for (j, planned) in pass.predictions.enumerated() {
            var prediction = planned
            if let draft = prediction.ifAccepted, !accepted.contains(draft) {
                guard case .commit = prediction.kind else { continue }
                prediction.kind = .draft  // its context holds a wrong draft: only a new draft comes of it
            }
            let cond = logits + (first + j * rows) * vocab
            if guided && pass.guidance {
                let uncond = cond + vocab, scale = options.cfgScale
                for v in 0..<vocab { scratch[v] = uncond[v] + (cond[v] - uncond[v]) * scale }
            } else {
                scratch.baseAddress!.update(from: cond, count: vocab)
            }
            let wasEmpty = grid[prediction.cell] == nil
            if sampling.apply(prediction, logits: scratch, to: &grid) { accepted.insert(prediction.cell) }
            if wasEmpty && grid[prediction.cell] != nil {
                stats.cell_pass[prediction.cell] = stats.forward_passes
                settled += 1
            }
        }
        if leadPassesRun < leadPasses.count {
            leadPassesRun += 1
        } else {
            schedule.passDidFinish(pass, grid: grid)
        }
        stats.forward_passes += 1
        stats.tokens_per_pass.append(settled)
        stats.inputs_per_pass.append(pass.inputs.count)
        return settled
    }

    /// Rows of logits `plan` asked for in the current pass.
    var logitRows: Int { (pass?.predictions.count ?? 0) * conditions.count }

    /// The finished image.
    func result() -> GenerationResult {
        var s = stats
        s.drafts = sampling.drafts
        s.accepted = sampling.accepted
        s.rejected = sampling.rejected
        s.tokens_per_pass_histogram = s.tokensPerPassHistogram
        s.draft_matches = schedule.draftStatistics
        s.seconds = Date().timeIntervalSince(start)
        return GenerationResult(height: grid.height, width: grid.width, tokens: grid.cells.map { $0 ?? 0 }, stats: s)
    }
}
