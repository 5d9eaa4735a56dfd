/// One pass of a row-wavefront schedule (zipar, zipar-adaptive) being put together. Rows fill left to
/// right; each open row feeds its newest token at its own slot; a row starts from the real last token of
/// the row above when that row is complete, else from the `RowStart` query; the real last token of a row
/// completed in the previous pass is fed (unsampled) so later queries see it. Attention sees written slots
/// only: no zero-filled slot, no stand-in of another input.
struct WavefrontPass {
    let layout: SequenceLayout
    let grid: TokenGrid
    let rowStart: RowStart
    private(set) var inputs: [ModelInput] = []
    private(set) var predictions: [DecodingPass.Prediction] = []
    /// Index of the input feeding each row's newest token in this pass.
    private var newestInput: [Int: Int] = [:]
    /// Rows whose real last token this pass feeds.
    private var lastTokenFed: Set<Int> = []

    init(layout: SequenceLayout, grid: TokenGrid, rowStart: RowStart) {
        self.layout = layout
        self.grid = grid
        self.rowStart = rowStart
    }

    /// Feeds (r, n−1), the newest token of row r, to predict (r, n).
    mutating func continueRow(_ r: Int, count n: Int) {
        inputs.append(ModelInput(.token(grid[r, n - 1]!), position: layout.position(row: r, column: n - 1)))
        newestInput[r] = inputs.count - 1
        predictions.append(.init(input: inputs.count - 1, cell: layout.cell(row: r, column: n)))
    }

    /// Predicts (r, 0) as `kind`: from the real last token of row r−1 when that row is complete (exactly as
    /// raster order does), else from the row-start query. Rows above must have been added first.
    /// In a layout with line ends, (r, 0) is predicted from row r−1's end-of-line token, a known token fed at
    /// its own position (after the real last token of row r−1 when that row is complete), whatever `rowStart`.
    mutating func startRow(_ r: Int, kind: DecodingPass.Prediction.Kind) {
        let w = layout.width
        let input: Int
        if layout.hasLineEnd {
            if grid.count(row: r - 1) == w && !lastTokenFed.contains(r - 1) { _ = feedLastToken(of: r - 1) }
            inputs.append(ModelInput(.lineEnd, position: layout.lineEndPosition(row: r - 1)))
            input = inputs.count - 1
        } else if grid.count(row: r - 1) == w {
            input = feedLastToken(of: r - 1)
        } else {
            input = rowStart.query(row: r, grid: grid, layout: layout, rowAboveInput: newestInput[r - 1]!, inputs: &inputs)
        }
        predictions.append(.init(input: input, cell: layout.cell(row: r, column: 0), kind: kind))
    }

    /// Feeds the draft of (r, 0) at its slot and predicts (r, 1) from it, kept only if the draft is accepted
    /// by a verification added before.
    mutating func speculate(row r: Int, draft: Int) {
        let first = layout.cell(row: r, column: 0)
        inputs.append(ModelInput(.token(draft), position: layout.position(row: r, column: 0)))
        predictions.append(.init(input: inputs.count - 1, cell: first + 1, ifAccepted: first))
    }

    /// Feeds, unsampled, the real last token of each of `rows` not fed yet in this pass.
    mutating func feedLastTokens(of rows: [Int]) {
        for q in rows where !lastTokenFed.contains(q) { _ = feedLastToken(of: q) }
    }

    /// The pass, guided by LlamaGen's cfg-interval rule counted in tokens done.
    func pass(cfgInterval: Int) -> DecodingPass {
        DecodingPass(inputs: inputs, predictions: predictions,
                     guidance: DecodingPass.guidance(tokensDone: grid.filledCount, cfgInterval: cfgInterval),
                     visibility: .writtenCausal)
    }

    /// Rows of `pass` whose last token it produced (all but the grid's last row): their real last token is
    /// still to be fed, in the next pass.
    static func rowsCompleted(by pass: DecodingPass, grid: TokenGrid) -> [Int] {
        pass.predictions.compactMap { p in
            let (r, c) = p.cell.quotientAndRemainder(dividingBy: grid.width)
            return c == grid.width - 1 && r < grid.height - 1 && grid[p.cell] != nil ? r : nil
        }
    }

    private mutating func feedLastToken(of q: Int) -> Int {
        let w = layout.width
        inputs.append(ModelInput(.token(grid[q, w - 1]!), position: layout.position(row: q, column: w - 1)))
        lastTokenFed.insert(q)
        return inputs.count - 1
    }
}
