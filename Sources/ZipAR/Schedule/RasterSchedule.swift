/// Plain next-token decoding: one token per pass, H·W passes (prefill included). In a layout whose rows
/// end in an end-of-line token it decodes as upstream Lumina-mGPT does: the pass after a row's last token
/// feeds that token (its output would predict the forced end-of-line token, so nothing is sampled) and the
/// next pass feeds the end-of-line token, predicting the next row's first token: H·W + H − 1 passes.
public struct RasterSchedule: DecodingSchedule {
    public let name = "raster"
    let layout: SequenceLayout
    let cfgInterval: Int
    /// Rows whose last token has been fed (line-end layouts).
    private var rowsClosed = 0

    public init(layout: SequenceLayout, cfgInterval: Int = -1) {
        self.layout = layout
        self.cfgInterval = cfgInterval
    }

    public mutating func nextPass(_ grid: TokenGrid) -> DecodingPass? {
        guard let k = grid.cells.firstIndex(where: { $0 == nil }) else { return nil }
        if k == 0 { return layout.prefill() }
        let (r, c) = k.quotientAndRemainder(dividingBy: layout.width)
        guard layout.hasLineEnd, c == 0 else { return layout.rasterStep(cell: k, grid: grid, cfgInterval: cfgInterval) }
        let guidance = DecodingPass.guidance(tokensDone: k, cfgInterval: cfgInterval)
        if rowsClosed < r {
            return DecodingPass(inputs: [ModelInput(.token(grid[k - 1]!), position: layout.position(row: r - 1, column: layout.width - 1))],
                                predictions: [], guidance: guidance, visibility: layout.visibility)
        }
        return DecodingPass(inputs: [ModelInput(.lineEnd, position: layout.lineEndPosition(row: r - 1))],
                            predictions: [.init(input: 0, cell: k)], guidance: guidance, visibility: layout.visibility)
    }

    public mutating func passDidFinish(_ pass: DecodingPass, grid: TokenGrid) {
        if pass.predictions.isEmpty { rowsClosed += 1 }
    }
}
