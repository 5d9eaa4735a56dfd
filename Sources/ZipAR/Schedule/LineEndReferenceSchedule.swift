/// ZipAR exactly as the authors' released Lumina-mGPT code runs it (ThisisBillhe/ZipAR, Lumina-mGPT-ZipAR,
/// `ChameleonForConditionalGeneration._sample`), for layouts whose rows end in an end-of-line token:
/// - a row's count includes its leading token (row 0: the last header token W; row r: the end-of-line token
///   of row r−1), and the window counts it too: when row r holds `window` entries (window − 1 image tokens)
///   row r+1 opens, fed row r's end-of-line token at its own position in the next pass, so rows lag by
///   window − 1 and row 1 starts while row 0 is still open;
/// - a pass feeds, in order: the real last token of a row completed by the previous pass (its logits are
///   discarded; it writes its key and value), then each open row's newest entry, oldest row first;
/// - attention sees the tokens fed so far at or before the query's position (the code's cache holds the
///   generated tokens only, in row order, at their true rotary positions);
/// - the prompt's prefill attends without a causal mask (the code's layers are eager `ChameleonAttention`
///   while its mask code, for the default SDPA implementation, leaves the mask to SDPA's is_causal: no mask
///   at all in a pass of several tokens over an empty cache), so every prompt token sees the whole prompt;
///   the header passes and every later pass are causal as described;
/// - the image ends with the last row's last token (the code appends EOL, EOI and END without a pass).
/// Image passes: W + (H − 1)·(window − 1); windows 2 … W + 1 (W + 1: raster order with batched guidance).
public struct LineEndReferenceSchedule: DecodingSchedule {
    public let name = "zipar-reference"
    let layout: SequenceLayout
    public let window: Int
    let cfgInterval: Int
    /// Entries of each row (its leading token included), as the code's row_token_num.
    private var entries: [Int]
    /// Open rows, oldest first.
    private var openRows = [0]
    /// The row completed by the previous pass, whose real last token is fed next.
    private var completedRow: Int?

    /// Valid windows for a grid `width` wide (what the released code runs: at 1 no row would ever open).
    public static func validWindows(width: Int) -> ClosedRange<Int>? { width >= 1 ? 2...(width + 1) : nil }

    public init(layout: SequenceLayout, window: Int, cfgInterval: Int = -1) {
        precondition(layout.hasLineEnd, "a layout with end-of-line tokens")
        self.layout = layout
        self.window = window
        self.cfgInterval = cfgInterval
        entries = [Int](repeating: 0, count: layout.height)
        entries[0] = 1
    }

    /// The layout's lead passes, the prompt's prefill seeing the whole prompt (see the type's comment).
    public func leadPasses(for layout: SequenceLayout) -> [DecodingPass] {
        var passes = layout.leadPasses
        if var first = passes.first, first.inputs.count > 1 {
            first.visibility = .writtenThrough(first.inputs.last!.position)
            passes[0] = first
        }
        return passes
    }

    public mutating func nextPass(_ grid: TokenGrid) -> DecodingPass? {
        if openRows.isEmpty { return nil }
        if entries[0] == 1 { return layout.prefill() }
        var inputs: [ModelInput] = []
        var predictions: [DecodingPass.Prediction] = []
        if let r = completedRow {
            inputs.append(ModelInput(.token(grid[r, layout.width - 1]!), position: layout.position(row: r, column: layout.width - 1)))
        }
        for q in openRows {
            let n = entries[q] - 1  // image tokens of row q so far
            if n == 0 {
                inputs.append(ModelInput(.lineEnd, position: layout.lineEndPosition(row: q - 1)))
            } else {
                inputs.append(ModelInput(.token(grid[q, n - 1]!), position: layout.position(row: q, column: n - 1)))
            }
            predictions.append(.init(input: inputs.count - 1, cell: layout.cell(row: q, column: n)))
        }
        return DecodingPass(inputs: inputs, predictions: predictions,
                            guidance: DecodingPass.guidance(tokensDone: grid.filledCount, cfgInterval: cfgInterval),
                            visibility: layout.visibility)
    }

    public mutating func passDidFinish(_ pass: DecodingPass, grid: TokenGrid) {
        let rowEntries = layout.width + 1, last = layout.height - 1
        completedRow = nil
        for q in openRows {
            entries[q] += 1
            if entries[q] == window && q < last && !openRows.contains(q + 1) {
                openRows.append(q + 1)
                entries[q + 1] = 1
            }
            if entries[q] == rowEntries { completedRow = q }
        }
        openRows.removeAll { entries[$0] == rowEntries }
        if completedRow == last { completedRow = nil }
    }
}
