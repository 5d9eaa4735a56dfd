/// ZipAR with a fixed window, as the paper describes it rather than as the released code runs it: every
/// row lags the row above by `window` tokens, row 1 included (no sequential first row). Row r starts once
/// row r−1 holds `window` tokens, so (r, c) is decoded in pass r·window + c and an H×W grid takes
/// W + (H−1)·window passes, prefill included. Attention sees only tokens that exist (`.writtenCausal`); the
/// first token of a row comes from the `RowStart` query until the row above is complete. With
/// window = W this is raster order, input for input.
public struct ZipARSchedule: DecodingSchedule {
    public let name = "zipar"
    let layout: SequenceLayout
    public let window: Int
    public let rowStart: RowStart
    let cfgInterval: Int
    /// Rows completed by the previous pass, whose real last token is fed next.
    private var completedRows: [Int] = []

    /// Valid windows for a grid `width` wide.
    public static func validWindows(width: Int) -> ClosedRange<Int> { 1...width }

    public init(layout: SequenceLayout, window: Int, rowStart: RowStart = .placeholder, cfgInterval: Int = -1) {
        precondition(ZipARSchedule.validWindows(width: layout.width).contains(window), "window \(window) outside 1…\(layout.width)")
        self.layout = layout
        self.window = window
        self.rowStart = rowStart
        self.cfgInterval = cfgInterval
    }

    public mutating func nextPass(_ grid: TokenGrid) -> DecodingPass? {
        if grid.isComplete { return nil }
        if grid[0] == nil { return layout.prefill() }
        var pass = WavefrontPass(layout: layout, grid: grid, rowStart: rowStart)
        for r in 0..<layout.height {
            let n = grid.count(row: r)
            if n == layout.width { continue }
            if n > 0 {
                pass.continueRow(r, count: n)
            } else if grid.count(row: r - 1) >= window {
                pass.startRow(r, kind: .sample)
            } else {
                break  // rows below cannot start either
            }
        }
        pass.feedLastTokens(of: completedRows)
        return pass.pass(cfgInterval: cfgInterval)
    }

    public mutating func passDidFinish(_ pass: DecodingPass, grid: TokenGrid) {
        completedRows = WavefrontPass.rowsCompleted(by: pass, grid: grid)
    }
}
