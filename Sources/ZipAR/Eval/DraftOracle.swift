/// Step 0 of the lossless wavefront (docs/schedules.md, "zipar-lossless"): how often a draft made under a
/// candidate draft view equals raster's token when the context holds raster's own final tokens. That
/// bounds the match rate any drafter with that view can reach (α of lossless.md §4.10).
/// - copy above / copy left: the token above (row 0: to the left) or to the left (column 0: above).
/// - ZipAR wavefront, lag w: zipar:w's passes teacher-forced (every token it would sample replaced by
///   raster's): cell (r, c) is picked, with the cell's Gumbel noise, from the rows above as far as
///   zipar:w's front holds them (row r−1 to column c+w−1), the written slots only.
public struct DraftOracle {
    /// Matches and cells of one view, over every image scored, and over the rows below the first (row 0
    /// is exact in every wavefront view).
    public struct Agreement: Sendable {
        public var view: String
        public var matched = 0, cells = 0, matchedBelowRow0 = 0, cellsBelowRow0 = 0
        public var rate: Double { Double(matched) / Double(max(cells, 1)) }
        public var rateBelowRow0: Double { Double(matchedBelowRow0) / Double(max(cellsBelowRow0, 1)) }
    }

    public let generator: ImageGenerator

    public init(generator: ImageGenerator) { self.generator = generator }

    /// Agreement of the copy drafts and of the ZipAR wavefront at each of `lags` with the raster images of
    /// `batch` (generated here, `batchSize` at a time).
    public func measure(_ batch: [GenerationOptions], lags: [Int], batchSize: Int, progress: (Int) -> Void = { _ in }) throws -> [Agreement] {
        var rows = [Agreement(view: "copy above"), Agreement(view: "copy left")] + lags.map { Agreement(view: "ZipAR wavefront, lag \($0)") }
        var done = 0
        for start in stride(from: 0, to: batch.count, by: batchSize) {
            let chunk = Array(batch[start..<min(batch.count, start + batchSize)])
            for (options, raster) in zip(chunk, try generator.generate(.raster, batch: chunk)) {
                let h = raster.height, w = raster.width, t = raster.tokens
                let above = (0..<(h * w)).map { c in c >= w ? t[c - w] : c > 0 ? t[c - 1] : nil }
                let left = (0..<(h * w)).map { c in c % w > 0 ? t[c - 1] : c >= w ? t[c - w] : nil }
                for (k, drafts) in [above, left].enumerated() {
                    for c in 1..<(h * w) { rows[k].add(cell: c, width: w, matched: drafts[c] == t[c]) }
                }
                for (k, lag) in lags.enumerated() {
                    let picks = try teacherForced(.zipar(window: lag, rowStart: .placeholder), tokens: t, options: options)
                    for c in 0..<(h * w) { rows[2 + k].add(cell: c, width: w, matched: picks[c] == t[c]) }
                }
            }
            done += chunk.count
            progress(done)
        }
        return rows
    }

    /// The token each cell's prediction picks when `spec`'s passes (every prediction a `.sample`) run with
    /// `tokens` written into the grid instead of what they pick.
    func teacherForced(_ spec: ScheduleSpec, tokens: [Int], options: GenerationOptions) throws -> [Int] {
        let model = generator.model, vocab = model.imageVocabulary
        let conditioning = try model.conditioning(options.condition, guidance: options.cfgScale > 1)
        let layout = conditioning.layout, rows = conditioning.rows.count
        var schedule = spec.schedule(layout: layout, cfgInterval: options.cfgInterval)
        let cache = model.makeCache(batch: rows, slots: layout.slots)
        var grid = TokenGrid(height: layout.height, width: layout.width)
        var picks = [Int](repeating: -1, count: tokens.count)
        var sampler = Sampler(options.sampling)
        let noise = GumbelNoise(seed: options.seed)
        var mixed = [Float](repeating: 0, count: vocab)
        while let pass = schedule.nextPass(grid) {
            let n = pass.inputs.count
            let batch = (0..<rows).flatMap { r in pass.inputs.map { BatchInput($0, row: r, visibility: pass.visibility) } }
            let logitsFor = pass.predictions.flatMap { p in (0..<rows).map { r in r * n + p.input } }
            let logits = model.forward(batch: batch, conditions: conditioning.rows, cache: cache, logitsFor: logitsFor)
            for (j, p) in pass.predictions.enumerated() {
                precondition(p.kind == .sample && p.ifAccepted == nil, "teacher forcing takes schedules that only sample")
                let cond = logits.baseAddress! + j * rows * vocab
                for v in 0..<vocab {
                    mixed[v] = rows > 1 && pass.guidance ? cond[vocab + v] + (cond[v] - cond[vocab + v]) * options.cfgScale : cond[v]
                }
                picks[p.cell] = mixed.withUnsafeMutableBufferPointer { sampler.pick($0, noise: noise, position: p.cell) }
                grid[p.cell] = tokens[p.cell]
            }
            schedule.passDidFinish(pass, grid: grid)
        }
        return picks
    }
}

extension DraftOracle.Agreement {
    mutating func add(cell: Int, width: Int, matched hit: Bool) {
        cells += 1
        if hit { matched += 1 }
        if cell >= width {
            cellsBelowRow0 += 1
            if hit { matchedBelowRow0 += 1 }
        }
    }
}
