/// ZipAR's adaptive window (the paper's v3, not in the released code): a row starts as early as the row
/// above allows, checked against a larger context.
/// - When row r−1 holds `minWindow` tokens, (r, 0) is drafted from that context (the `RowStart` query).
/// - In each following pass row r−1 has one more token; (r, 0) is predicted again from the larger context
///   and the draft is verified by Gumbel coupling: both picks use the cell's fixed noise, and the draft
///   stands iff the larger context picks the same token (an exact draw from p_large either way; greedy:
///   iff it is the new argmax). The same pass feeds the draft at (r, 0) and predicts (r, 1) from it, kept
///   only if the draft is accepted, so an accepted row lags by `minWindow`, as fixed-window ZipAR does.
/// - Rejected, the larger context's token is the next draft, verified against the next context; the row
///   keeps waiting. When row r−1 is complete the last verification uses the real last token (raster's own
///   prediction) and settles (r, 0) either way.
/// Passes: W + (H−1)·minWindow when every draft is accepted, H·W when every one is rejected.
public struct ZipARAdaptiveSchedule: DecodingSchedule {
    public let name = "zipar-adaptive"
    let layout: SequenceLayout
    public let minWindow: Int
    public let rowStart: RowStart
    let cfgInterval: Int
    /// Rows completed by the previous pass, whose real last token is fed next.
    private var completedRows: [Int] = []

    /// Valid minimum windows for a grid `width` wide: a row's first two tokens settle in the same pass, so
    /// the row below cannot draft with fewer than 2 tokens above; with W (the full row) nothing is drafted.
    public static func validMinWindows(width: Int) -> ClosedRange<Int>? { width >= 3 ? 2...(width - 1) : nil }

    public init(layout: SequenceLayout, minWindow: Int, rowStart: RowStart = .placeholder, cfgInterval: Int = -1) {
        precondition(ZipARAdaptiveSchedule.validMinWindows(width: layout.width)?.contains(minWindow) == true,
                     "min window \(minWindow) invalid for width \(layout.width)")
        self.layout = layout
        self.minWindow = minWindow
        self.rowStart = rowStart
        self.cfgInterval = cfgInterval
    }

    public mutating func nextPass(_ grid: TokenGrid) -> DecodingPass? {
        if grid.isComplete { return nil }
        if grid[0] == nil { return layout.prefill() }
        let w = layout.width
        var pass = WavefrontPass(layout: layout, grid: grid, rowStart: rowStart)
        for r in 0..<layout.height {
            let n = grid.count(row: r)
            if n == w { continue }
            if n > 0 {
                pass.continueRow(r, count: n)
                continue
            }
            let above = grid.count(row: r - 1)
            if let draft = grid.drafts[layout.cell(row: r, column: 0)] {
                pass.startRow(r, kind: .verify(last: above == w))
                pass.speculate(row: r, draft: draft)
            } else if above == w {
                pass.startRow(r, kind: .sample)
            } else if above >= minWindow {
                pass.startRow(r, kind: .draft)
            }
            break  // a row that has not started holds back the rows below
        }
        pass.feedLastTokens(of: completedRows)
        return pass.pass(cfgInterval: cfgInterval)
    }

    public mutating func passDidFinish(_ pass: DecodingPass, grid: TokenGrid) {
        completedRows = WavefrontPass.rowsCompleted(by: pass, grid: grid)
    }
}
