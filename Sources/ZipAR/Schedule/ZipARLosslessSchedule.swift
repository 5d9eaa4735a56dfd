/// A lossless wavefront (docs/schedules.md, "zipar-lossless"): ZipAR's wavefront only drafts, a verifier
/// commits in raster order, and every committed token is the one raster decoding picks with the same seed
/// (bit for bit where the kernels give a row the same result whatever shares its pass).
///
/// Each pass after the prefill feeds
/// - the verification window: the `verifyWindow` raster-contiguous cells from the last committed one (the
///   first slot without exact keys/values), each carrying its committed token or its draft (a free copy of
///   the token above, else the one to the left, where it has none), attending only to written slots at or
///   before its own: the exact prefix and the window's own inputs, a raster-causal view;
/// - wavefront draft inputs: for `draftRows` rows from the commit row down, the newest token of the
///   row (or, to start a row, the last cell of the row above: its draft, or a query-only stand-in holding
///   the newest token of that row), once the row above holds `draftLag` more tokens; they see any written
///   slot, drafts included, and predict the row's next draft.
///
/// The window's outputs are read left to right: the first cell is committed, and each next cell is
/// committed while the token fed for the cell before matched its commit; once a draft misses, the rest only
/// refresh their cells' drafts. Keys/values are exact only where their whole context was committed, which
/// the next window, starting at the last committed cell, relies on; everything else is re-fed. At most
/// `verifyWindow` and at least one token are committed per pass, so there are never more than H·W passes.
/// In a layout whose rows end in an end-of-line token (Lumina-mGPT) that token is never drafted: wherever
/// an input would predict a row's first cell, the row's last cell is fed and then the end-of-line token at
/// its own slot, which predicts it.
public struct ZipARLosslessSchedule: DecodingSchedule {
    public let name = "zipar-lossless"
    let layout: SequenceLayout
    /// Cells the verification window predicts per pass (K).
    public let verifyWindow: Int
    /// A row drafts column c once the row above holds c + `draftLag` tokens (committed or drafted).
    public let draftLag: Int
    /// Rows, from the commit row down, that feed wavefront draft inputs (0: the window alone, speculative
    /// Jacobi decoding with copy drafts).
    public let draftRows: Int
    let cfgInterval: Int
    /// Test hook (a deliberately broken verifier): every window output commits, whether or not the drafts
    /// before it matched, so commits come from draft views.
    var trustsDrafts = false
    /// Match counts of the drafts the window verified.
    public private(set) var statistics = DraftStatistics()
    /// Source and age of every cell's current draft.
    private var origin: [Int: (source: DraftSource, age: Int)] = [:]
    /// The drafts the planned window feeds (cell, token, source, age), in raster order.
    private var fed: [(cell: Int, token: Int, source: DraftSource, age: Int)] = []
    /// Predictions of the planned pass that belong to the window (the rest are wavefront drafts).
    private var windowPredictions = 0

    /// Valid verification windows for a grid of `cells` cells.
    public static func validWindows(cells: Int) -> ClosedRange<Int> { 1...cells }
    /// Valid draft lags for a grid `width` wide.
    public static func validLags(width: Int) -> ClosedRange<Int> { 1...width }
    /// Valid numbers of draft rows for a grid `height` high.
    public static func validDraftRows(height: Int) -> ClosedRange<Int> { 0...height }

    public init(layout: SequenceLayout, verifyWindow: Int, draftLag: Int, draftRows: Int, cfgInterval: Int = -1) {
        precondition(Self.validWindows(cells: layout.height * layout.width).contains(verifyWindow), "verify window \(verifyWindow) invalid")
        precondition(Self.validLags(width: layout.width).contains(draftLag), "draft lag \(draftLag) invalid")
        precondition(Self.validDraftRows(height: layout.height).contains(draftRows), "draft rows \(draftRows) invalid")
        self.layout = layout
        self.verifyWindow = verifyWindow
        self.draftLag = draftLag
        self.draftRows = draftRows
        self.cfgInterval = cfgInterval
    }

    public var draftStatistics: DraftStatistics? { statistics }
    /// It commits raster's tokens, so it is conditioned as raster is.
    public var conditionedAs: String { "raster" }

    public mutating func nextPass(_ grid: TokenGrid) -> DecodingPass? {
        guard let a = grid.cells.firstIndex(where: { $0 == nil }) else { return nil }
        if a == 0 { return layout.prefill() }
        let w = layout.width, cells = grid.cells.count
        // Every cell a window commits must have raster's guidance: a window does not cross the cfg interval.
        let guided = DecodingPass.guidance(tokensDone: a, cfgInterval: cfgInterval)
        var k = min(verifyWindow, cells - a)
        if guided && cfgInterval >= 0 { k = max(1, min(k, cfgInterval + 2 - a)) }
        // The window's tokens: cells a−1 … a+k−2, free copies where a cell has no draft.
        var tokens: [Int: Int] = [:]
        func token(_ c: Int) -> Int? { grid[c] ?? grid.drafts[c] ?? tokens[c] }
        fed = []
        for c in (a - 1)..<(a + k - 1) {
            if let t = grid[c] { tokens[c] = t; continue }
            if let t = grid.drafts[c] {
                tokens[c] = t
                let o = origin[c] ?? (.free, 0)
                fed.append((c, t, o.source, o.age))
            } else {
                let t = (c >= w ? token(c - w) : nil) ?? token(c - 1)!
                tokens[c] = t
                fed.append((c, t, .free, 0))
            }
        }
        var inputs: [ModelInput] = [], predictions: [DecodingPass.Prediction] = []
        for i in 0..<k {
            let c = a - 1 + i
            inputs.append(ModelInput(.token(tokens[c]!), position: layout.position(row: c / w, column: c % w)))
            if layout.hasLineEnd && (c + 1) % w == 0 {  // the row's end-of-line token predicts the next row's first cell
                inputs.append(ModelInput(.lineEnd, position: layout.lineEndPosition(row: c / w)))
            }
            predictions.append(.init(input: inputs.count - 1, cell: c + 1, kind: .commit(fed: i + 1 < k ? tokens[c + 1] : nil),
                                     ifAccepted: i == 0 || trustsDrafts ? nil : c))
        }
        windowPredictions = predictions.count
        // Wavefront drafts: one input per row that may extend, outside the window's slots.
        let window = (a - 1)..<(a + k - 1)
        func frontier(_ r: Int) -> Int { (0..<w).first { token(r * w + $0) == nil } ?? w }
        let commitRow = a / w
        for r in commitRow..<min(layout.height, commitRow + draftRows) {
            let f = frontier(r)
            if f == w { continue }
            let above = r == 0 ? w : frontier(r - 1)
            guard above >= min(w, f + draftLag) else {
                if f == 0 { break }  // rows start in order
                continue
            }
            let source = f == 0 ? r * w - 1 : r * w + f - 1
            if source < 0 || window.contains(source) { continue }
            let position = layout.position(row: source / w, column: source % w)
            if let t = token(source) {
                inputs.append(ModelInput(.token(t), position: position))
                if layout.hasLineEnd && f == 0 { inputs.append(ModelInput(.lineEnd, position: layout.lineEndPosition(row: r - 1))) }
            } else {  // the row above is not drafted to its end: a stand-in with its newest token
                inputs.append(ModelInput(.token(token((r - 1) * w + above - 1)!), position: position, writesCache: false))
            }
            predictions.append(.init(input: inputs.count - 1, cell: r * w + f, kind: .draft))
        }
        return DecodingPass(inputs: inputs, predictions: predictions, guidance: guided, visibility: .writtenCausal)
    }

    public mutating func passDidFinish(_ pass: DecodingPass, grid: TokenGrid) {
        for d in fed {
            guard let t = grid[d.cell] else { break }  // the chain stopped before this draft
            statistics.record(source: d.source, age: d.age, matched: t == d.token)
            if t != d.token { break }
        }
        fed = []
        for (j, p) in pass.predictions.enumerated() {
            if grid[p.cell] != nil { origin[p.cell] = nil; continue }
            guard grid.drafts[p.cell] != nil else { continue }
            let age = (origin[p.cell]?.age ?? 0) + 1
            origin[p.cell] = (j < windowPredictions ? .window : .wavefront, age)
        }
    }
}
