/// What an image is conditioned on.
public enum ImageCondition: Equatable, Sendable {
    /// A class index (class-to-image models).
    case classLabel(Int)
    /// A text prompt (text-to-image models).
    case prompt(String)
    /// A prompt already tokenized as the family's template tokenizes it (text-to-image models; what a
    /// benchmark with random weights and no tokenizer feeds).
    case promptTokens([Int])
}

/// The condition tokens of one image, one sequence per batch row, and the sequence layout they give.
/// Row 0 is the conditional row; row 1, when present, the unconditional row that classifier-free guidance
/// mixes in. Rows have the same length (the layout's `conditionTokens`); `ModelInput.Source.condition(i)`
/// feeds element i of each row to that row.
public struct Conditioning: Equatable, Sendable {
    public var rows: [[Int]]
    public var layout: SequenceLayout

    public init(rows: [[Int]], layout: SequenceLayout) {
        precondition(!rows.isEmpty && rows.allSatisfy { $0.count == layout.conditionTokens }, "condition rows must fill the prefix")
        self.rows = rows
        self.layout = layout
    }
}

/// A model family's image-token transformer as the generation loop sees it: conditions become condition
/// rows and a sequence layout; one forward runs any set of (input, position) pairs under a visibility
/// rule and returns image-token logits. It holds no scheduling state: the cache is passed in.
public protocol ImageTokenModel: AnyObject {
    /// Image-token ids the model predicts; logits rows are this wide and ids are VQ codes 0 ..< this.
    var imageVocabulary: Int { get }
    /// The token grid an image fills.
    var gridHeight: Int { get }
    var gridWidth: Int { get }
    /// The longest condition (in tokens) the model's context leaves room for beside the grid.
    var maxConditionTokens: Int { get }
    /// Storage precision of the weights.
    var precision: WeightPrecision { get }
    /// Bytes of the weights held in memory (what a load costs beside the KV cache).
    var weightBytes: Int { get }
    /// The condition rows for `condition`: the conditional row, plus the unconditional row when `guidance`.
    func conditioning(_ condition: ImageCondition, guidance: Bool) throws -> Conditioning
    /// The condition rows for an image decoded by the schedule named `schedule` (default: as above).
    func conditioning(_ condition: ImageCondition, guidance: Bool, schedule: String) throws -> Conditioning
    /// The same with `negativePrompt` (when given) as the unconditional branch's prompt; the default throws
    /// `GenerationError.noNegativePrompt` for a given one (only Emu3's guidance has a negative prompt).
    func conditioning(_ condition: ImageCondition, guidance: Bool, schedule: String, negativePrompt: String?) throws -> Conditioning
    /// Whether every image row ends in an end-of-line token (default false).
    var rowsEndInLineEnd: Bool { get }
    /// A KV cache for `batch` rows and `slots` positions.
    func makeCache(batch: Int, slots: Int) -> KVCache
    /// Runs one pass over `batch`, each input in its cache row. `conditions[row]` is the condition row of
    /// cache row `row` (what `.condition(k)` inputs of that row feed). Returns the image-token logits of
    /// the batch inputs listed in `logitsFor`, [logitsFor.count][imageVocabulary]; the buffer is valid
    /// until the next call. Each input's result is the one it would get in a batch of its own row alone.
    func forward(batch: [BatchInput], conditions: [[Int]], cache: KVCache, logitsFor: [Int]) -> UnsafeBufferPointer<Float>
}

extension ImageTokenModel {
    /// The condition rows for an image decoded by the schedule named `schedule`: a family whose references
    /// build the unconditional row differently per schedule (Lumina-mGPT) overrides this; others ignore it.
    public func conditioning(_ condition: ImageCondition, guidance: Bool, schedule: String) throws -> Conditioning {
        try conditioning(condition, guidance: guidance)
    }

    public func conditioning(_ condition: ImageCondition, guidance: Bool, schedule: String, negativePrompt: String?) throws -> Conditioning {
        guard negativePrompt == nil else { throw GenerationError.noNegativePrompt }
        return try conditioning(condition, guidance: guidance, schedule: schedule)
    }

    /// Whether every image row ends in an end-of-line token (what the schedules' windows count).
    public var rowsEndInLineEnd: Bool { false }

    /// One pass feeding the same `inputs` to every cache row (row b gets condition row `conditions[b]`),
    /// all under `visibility`. Returns the logits of `logitsFor` in every row, [batch][logitsFor.count][vocab].
    public func forward(_ inputs: [ModelInput], conditions: [[Int]], cache: KVCache, visibility: Visibility,
                        logitsFor: [Int]) -> UnsafeBufferPointer<Float> {
        precondition(conditions.count == cache.batch, "one condition row per batch row")
        let n = inputs.count
        let batch = (0..<cache.batch).flatMap { b in inputs.map { BatchInput($0, row: b, visibility: visibility) } }
        return forward(batch: batch, conditions: conditions, cache: cache,
                       logitsFor: (0..<cache.batch).flatMap { b in logitsFor.map { b * n + $0 } })
    }
}
