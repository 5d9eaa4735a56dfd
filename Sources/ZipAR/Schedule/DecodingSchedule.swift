/// The image-token grid being filled, raster order; `nil` where no token has been generated yet.
public struct TokenGrid: Sendable {
    public let height: Int, width: Int
    public private(set) var cells: [Int?]

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
}

/// One model pass as a schedule plans it: the inputs to feed, which outputs to sample into which cells,
/// whether CFG applies, and what the attention may see.
public struct DecodingPass: Sendable {
    /// A sampled output: the logits of `inputs[input]` give the token of grid cell `cell` (raster index).
    public struct Prediction: Equatable, Sendable {
        public var input: Int
        public var cell: Int
        public init(input: Int, cell: Int) { self.input = input; self.cell = cell }
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
}

/// Decides which tokens each pass decodes. All scheduling state lives here, never in the model; the
/// generation loop asks for a pass, runs it, writes the sampled tokens into the grid and reports back.
public protocol DecodingSchedule {
    /// The command-line name ("raster", "zipar-reference", …).
    var name: String { get }
    /// The next pass, or nil when the grid is complete.
    mutating func nextPass(_ grid: TokenGrid) -> DecodingPass?
    /// Called after the tokens of `pass` were sampled into `grid`.
    mutating func passDidFinish(_ pass: DecodingPass, grid: TokenGrid)
}

/// Where things sit in LlamaGen's sequence: [condition (cls_token_num), image tokens in raster order].
public struct SequenceLayout: Sendable {
    public let conditionTokens: Int, height: Int, width: Int

    public init(conditionTokens: Int, height: Int, width: Int) {
        self.conditionTokens = conditionTokens
        self.height = height
        self.width = width
    }

    /// Absolute position (KV slot and rotary row) of image token (row, column).
    public func position(row: Int, column: Int) -> Int { conditionTokens + row * width + column }
    public func cell(row: Int, column: Int) -> Int { row * width + column }

    /// The prefill: every condition token; its last output predicts cell 0.
    public func prefill() -> DecodingPass {
        DecodingPass(inputs: (0..<conditionTokens).map { ModelInput(.condition($0), position: $0) },
                     predictions: [.init(input: conditionTokens - 1, cell: 0)], guidance: true, visibility: .staticCausal)
    }

    /// A raster step: feed cell k−1 at its position, predict cell k. LlamaGen's decode_n_tokens turns CFG
    /// off once the step index (k − 1) exceeds cfg_interval (when cfg_interval ≥ 0).
    public func rasterStep(cell k: Int, grid: TokenGrid, cfgInterval: Int) -> DecodingPass {
        DecodingPass(inputs: [ModelInput(.token(grid[k - 1]!), position: conditionTokens + k - 1)],
                     predictions: [.init(input: 0, cell: k)],
                     guidance: cfgInterval < 0 || k - 1 <= cfgInterval, visibility: .staticCausal)
    }
}
