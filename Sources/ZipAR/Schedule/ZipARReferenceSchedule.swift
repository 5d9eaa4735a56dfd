/// ZipAR exactly as the authors' released LlamaGen code runs it (ThisisBillhe/ZipAR, generate_zipar.py):
/// - row 0 is decoded one token per pass;
/// - then row 1 opens, and a row r+1 opens (at the end of a pass) when row r holds `window` tokens;
/// - a pass feeds, in order: the real last token of a row that completed in the previous pass (its logits
///   are discarded), then per open row its newest token, or for a row that has none yet a placeholder at
///   the slot and rotary position of (r−1, W−1) — for row 1 the real (0, W−1), for a later row n a copy of
///   the newest token of row n−2 taken when row n opened;
/// - attention is the static causal mask: not-yet-generated slots are visible as zeros;
/// - CFG stops once more than cfg_interval tokens were generated after row 0 (counted at pass start).
/// Passes, prefill included: 2W + (H−2)·w. Windows 2 … W−1 (what the released code supports).
public struct ZipARReferenceSchedule: DecodingSchedule {
    public let name = "zipar-reference"
    let layout: SequenceLayout
    public let window: Int
    let cfgInterval: Int

    /// Tokens generated per row.
    private var rowCount: [Int]
    /// Rows being decoded, oldest first.
    private var openRows: [Int] = []
    /// The row completed in the previous pass, whose real last token is fed next.
    private var completedRow: Int?
    /// The placeholder token value of each opened row (copied when it opened).
    private var placeholder: [Int]
    /// Tokens generated after row 0 (the reference's cfg-interval counter in this phase).
    private var generatedAfterRowZero = 0

    /// Valid windows for a grid `width` wide.
    public static func validWindows(width: Int) -> ClosedRange<Int>? { width >= 3 ? 2...(width - 1) : nil }

    public init(layout: SequenceLayout, window: Int, cfgInterval: Int = -1) {
        self.layout = layout
        self.window = window
        self.cfgInterval = cfgInterval
        rowCount = [Int](repeating: 0, count: layout.height)
        placeholder = [Int](repeating: 0, count: layout.height)
    }

    public mutating func nextPass(_ grid: TokenGrid) -> DecodingPass? {
        let w = layout.width
        if rowCount[0] == 0 { return layout.prefill() }
        if rowCount[0] < w { return layout.rasterStep(cell: rowCount[0], grid: grid, cfgInterval: cfgInterval) }
        if openRows.isEmpty { return nil }

        var inputs: [ModelInput] = []
        var predictions: [DecodingPass.Prediction] = []
        if let r = completedRow {
            inputs.append(ModelInput(.token(grid[r, w - 1]!), position: layout.position(row: r, column: w - 1)))
        }
        for q in openRows {
            let n = rowCount[q]
            if n == 0 {
                let value = q == 1 ? grid[0, w - 1]! : placeholder[q]
                inputs.append(ModelInput(.token(value), position: layout.position(row: q - 1, column: w - 1)))
            } else {
                inputs.append(ModelInput(.token(grid[q, n - 1]!), position: layout.position(row: q, column: n - 1)))
            }
            predictions.append(.init(input: inputs.count - 1, cell: layout.cell(row: q, column: n)))
        }
        return DecodingPass(inputs: inputs, predictions: predictions,
                            guidance: cfgInterval < 0 || generatedAfterRowZero <= cfgInterval,
                            visibility: .staticCausal)
    }

    public mutating func passDidFinish(_ pass: DecodingPass, grid: TokenGrid) {
        let w = layout.width
        if rowCount[0] < w {
            rowCount[0] += 1
            if rowCount[0] == w && layout.height > 1 { openRows = [1] }
            return
        }
        completedRow = nil
        let rows = openRows
        for q in rows {
            rowCount[q] += 1
            generatedAfterRowZero += 1
            if rowCount[q] == window && q < layout.height - 1 && !openRows.contains(q + 1) {
                placeholder[q + 1] = grid[q - 1, rowCount[q - 1] - 1]!
                openRows.append(q + 1)
            }
            if rowCount[q] == w { completedRow = q }
        }
        openRows.removeAll { rowCount[$0] == w }
    }
}
