/// The image-token grid being filled, raster order; `nil` where no token has been generated yet.
public struct TokenGrid: Sendable {
    public let height: Int, width: Int
    public private(set) var cells: [Int?]
    /// Draft tokens (cell → token) of `.draft` predictions not yet accepted: fed to the model but not part
    /// of the image until a `.verify` prediction settles the cell.
    public var drafts: [Int: Int] = [:]

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
        cells = [Int?](repeating: nil, count: height * width)
    }

    public subscript(row: Int, column: Int) -> Int? { cells[row * width + column] }
    public subscript(cell: Int) -> Int? {
        get { cells[cell] }
        set { cells[cell] = newValue }
    }

    /// True when every cell holds a token.
    public var isComplete: Bool { !cells.contains(where: { $0 == nil }) }

    /// Cells that hold a token.
    public var filledCount: Int { cells.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    /// Tokens of `row` generated so far (rows fill left to right, so these are its first columns).
    public func count(row: Int) -> Int {
        let start = row * width
        return (0..<width).first { cells[start + $0] == nil } ?? width
    }
}

/// One model pass as a schedule plans it: the inputs to feed, which outputs to sample into which cells,
/// whether CFG applies, and what the attention may see.
public struct DecodingPass: Sendable {
    /// A sampled output: the logits of `inputs[input]` give the token of grid cell `cell` (raster index).
    /// Predictions are applied in order, so a prediction may depend on an earlier one of the same pass.
    public struct Prediction: Equatable, Sendable {
        /// What the sampled token is for.
        public enum Kind: Equatable, Sendable {
            /// The cell's token.
            case sample
            /// A draft for the cell (`TokenGrid.drafts`); its distribution is kept for the verification.
            case draft
            /// Verifies the cell's draft against this prediction (the larger context) by Gumbel coupling:
            /// the draft stands iff this prediction picks the same token (same cell, same noise; greedy: the
            /// same argmax). Accepted, the draft becomes the cell's token; rejected, this prediction's token
            /// replaces the draft or, when `last` (no larger context will come), becomes the cell's token.
            case verify(last: Bool)
            /// The cell's final token, picked from an exact (raster) context. `fed` is the token this pass
            /// feeds at the cell's own slot (a draft, nil if none): the commit accepts it when it picks the
            /// same token, so a commit conditioned on it (`ifAccepted`) is exact too. A commit whose
            /// `ifAccepted` cell was not accepted refreshes the cell's draft instead (`.draft`).
            case commit(fed: Int?)
        }
        public var input: Int
        public var cell: Int
        public var kind: Kind
        /// Sampled only if an earlier verification or commit of this pass accepted the draft of this cell (a
        /// prediction conditioned on that draft, fed in the same pass); skipped otherwise (a `.commit`
        /// becomes a `.draft`).
        public var ifAccepted: Int?

        public init(input: Int, cell: Int, kind: Kind = .sample, ifAccepted: Int? = nil) {
            self.input = input
            self.cell = cell
            self.kind = kind
            self.ifAccepted = ifAccepted
        }
    }
    public var inputs: [ModelInput]
    public var predictions: [Prediction]
    /// Whether classifier-free guidance applies to this pass's predictions (false past the cfg interval).
    public var guidance: Bool
    public var visibility: Visibility

    public init(inputs: [ModelInput], predictions: [Prediction], guidance: Bool, visibility: Visibility) {
        self.inputs = inputs
        self.predictions = predictions
        self.guidance = guidance
        self.visibility = visibility
    }

    /// LlamaGen's cfg-interval rule for a pass that starts with `tokensDone` cells filled: decode_n_tokens
    /// turns CFG off once the step index (tokens done − 1) exceeds cfg_interval (when cfg_interval ≥ 0).
    public static func guidance(tokensDone: Int, cfgInterval: Int) -> Bool {
        cfgInterval < 0 || tokensDone - 1 <= cfgInterval
    }
}

/// Decides which tokens each pass decodes. All scheduling state lives here, never in the model; the
/// generation loop asks for a pass, runs it, writes the sampled tokens into the grid and reports back.
public protocol DecodingSchedule: Sendable {
    /// The command-line name ("raster", "zipar-reference", …).
    var name: String { get }
    /// The next pass, or nil when the grid is complete.
    mutating func nextPass(_ grid: TokenGrid) -> DecodingPass?
    /// Called after the tokens of `pass` were sampled into `grid`.
    mutating func passDidFinish(_ pass: DecodingPass, grid: TokenGrid)
    /// How the drafts a verifying schedule checked fared (zipar-lossless), nil for the others.
    var draftStatistics: DraftStatistics? { get }
    /// The schedule whose condition rows a family gives this one (default: its own name).
    var conditionedAs: String { get }
    /// The passes run before the first `nextPass` (default: the layout's `leadPasses`).
    func leadPasses(for layout: SequenceLayout) -> [DecodingPass]
}

extension DecodingSchedule {
    public var draftStatistics: DraftStatistics? { nil }
    /// Families whose references build CFG rows per schedule (Lumina-mGPT) give a schedule that reproduces
    /// another's tokens that schedule's rows.
    public var conditionedAs: String { name }
}

extension DecodingSchedule {
    public func leadPasses(for layout: SequenceLayout) -> [DecodingPass] { layout.leadPasses }
}

/// Where things sit in a family's sequence: [condition (conditionTokens), image rows in raster order].
/// Cell (r, c) sits at slot and rotary position conditionTokens + r·rowStride + c; in a family whose rows
/// end in an end-of-line token (Lumina-mGPT) rowStride is width + 1 and row r's end-of-line token sits at
/// conditionTokens + r·rowStride + width.
public struct SequenceLayout: Equatable, Sendable {
    public let conditionTokens: Int, height: Int, width: Int
    /// Positions per image row: width, or width + 1 with an end-of-line token after every row.
    public let rowStride: Int
    /// Condition tokens at the end of the condition fed one per pass after a prefill of the others, as a
    /// reference that generates them (forced) feeds them (Lumina: <racm3:break>, H, W); 0: one prefill.
    public let header: Int

    public init(conditionTokens: Int, height: Int, width: Int, lineEnd: Bool = false, header: Int = 0) {
        precondition(header >= 0 && header <= conditionTokens, "the header lies inside the condition")
        self.conditionTokens = conditionTokens
        self.height = height
        self.width = width
        rowStride = lineEnd ? width + 1 : width
        self.header = header
    }

    /// Whether every row ends in an end-of-line token.
    public var hasLineEnd: Bool { rowStride > width }
    /// Absolute position (KV slot and rotary row) of image token (row, column).
    public func position(row: Int, column: Int) -> Int { conditionTokens + row * rowStride + column }
    /// Absolute position of row `row`'s end-of-line token (layouts with line ends).
    public func lineEndPosition(row: Int) -> Int { conditionTokens + row * rowStride + width }
    public func cell(row: Int, column: Int) -> Int { row * width + column }
    /// Cache slots the whole sequence takes.
    public var slots: Int { conditionTokens + height * rowStride }

    /// What queries see: the static causal mask (LlamaGen's static cache), or for a layout with line ends
    /// only what was fed (its references keep generated tokens only; the two agree wherever every earlier
    /// slot is written).
    public var visibility: Visibility { hasLineEnd ? .writtenCausal : .staticCausal }

    /// The passes before the prefill when the layout has a header: the condition without the header, then
    /// each header token but the last, one per pass; nothing is predicted.
    public var leadPasses: [DecodingPass] {
        guard header > 0 else { return [] }
        let first = conditionTokens - header
        let chunks = (first > 0 ? [0..<first] : []) + (first..<conditionTokens - 1).map { $0..<$0 + 1 }
        return chunks.map { range in
            DecodingPass(inputs: range.map { ModelInput(.condition($0), position: $0) }, predictions: [], guidance: true,
                         visibility: visibility)
        }
    }

    /// The prefill: every condition token (or, after the lead passes, the last one); its last output
    /// predicts cell 0.
    public func prefill() -> DecodingPass {
        let start = header > 0 ? conditionTokens - 1 : 0
        return DecodingPass(inputs: (start..<conditionTokens).map { ModelInput(.condition($0), position: $0) },
                            predictions: [.init(input: conditionTokens - 1 - start, cell: 0)], guidance: true, visibility: visibility)
    }

    /// A raster step: feed cell k−1 at its position, predict cell k.
    public func rasterStep(cell k: Int, grid: TokenGrid, cfgInterval: Int) -> DecodingPass {
        let (r, c) = (k - 1).quotientAndRemainder(dividingBy: width)
        return DecodingPass(inputs: [ModelInput(.token(grid[k - 1]!), position: position(row: r, column: c))],
                            predictions: [.init(input: 0, cell: k)],
                            guidance: DecodingPass.guidance(tokensDone: k, cfgInterval: cfgInterval), visibility: visibility)
    }
}
