/// One input of a model pass: what is fed (a condition token or an image token) and at which absolute
/// sequence position (its KV-cache slot and rotary position). Every batch row (the CFG pair) gets the same
/// image token; condition tokens differ per batch row (`Conditioning.rows`: the class label or the null
/// class, a prompt's tokens or the unconditional prompt's).
public struct ModelInput: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        /// The condition token at this index of each batch row's condition (0 ..< conditionTokens).
        case condition(Int)
        /// An image token id.
        case token(Int)
        /// The family's end-of-line token (layouts whose rows end in one: `SequenceLayout.hasLineEnd`).
        case lineEnd
    }
    public var source: Source
    public var position: Int
    /// Whether the input's key and value become visible in its position's slot, to itself and every later
    /// query (the default). A query-only input (false) attends to the slots before its position by the
    /// visibility rule and to its own key and value, and no other query ever sees it: a stand-in queried at
    /// the slot of a token that does not exist yet. Its key/value sit in the slot, which stays unwritten
    /// until a real token is fed there; so it needs `.writtenCausal` and a slot not written yet.
    public var writesCache: Bool

    public init(_ source: Source, position: Int, writesCache: Bool = true) {
        self.source = source
        self.position = position
        self.writesCache = writesCache
    }
}

/// Which cache slots a query attends to.
public enum Visibility: Equatable, Sendable {
    /// Every slot at or before the query's position, generated or not: not-yet-written slots hold zero keys
    /// and values (score 0). This is LlamaGen's static-cache causal mask, as the released ZipAR code runs it.
    case staticCausal
    /// Only slots written so far (in this pass or before) at or before the query's position, and the
    /// query's own slot (where a query-only input's key and value sit).
    case writtenCausal
    /// Written slots up to and including this slot, whatever the query's own position: the prompt prefill
    /// of the released Lumina-mGPT-ZipAR code, whose eager attention gets no causal mask there (its mask
    /// code assumes SDPA's is_causal), so every prompt token attends to the whole prompt.
    case writtenThrough(Int)

    /// The last slot a query at `position` may see.
    func lastSlot(query position: Int) -> Int {
        if case .writtenThrough(let last) = self { return last }
        return position
    }
}

/// One input of a batched pass: a schedule's input, the cache row (sequence) it belongs to, and what its
/// query sees. An image with guidance feeds each of its inputs to two rows, conditional and unconditional;
/// the images of a batch have rows of their own, and each row's results are those it would get alone.
public struct BatchInput: Equatable, Sendable {
    public var input: ModelInput
    public var row: Int
    public var visibility: Visibility

    public init(_ input: ModelInput, row: Int, visibility: Visibility) {
        self.input = input
        self.row = row
        self.visibility = visibility
    }
}

/// The condition token id marking a slot a row leaves empty (an unconditional prompt shorter than the
/// conditional one, or left out): such inputs are not run at all.
let absentConditionToken = -1

/// The inputs of `batch` a family runs: all but condition tokens that are `absentConditionToken` in their
/// row's condition. `kept` lists their batch indices in order; `index[e]` is input e's place among them,
/// −1 when it was skipped.
func presentInputs(_ batch: [BatchInput], conditions: [[Int]]) -> (kept: [Int], index: [Int]) {
    var kept: [Int] = [], index = [Int](repeating: -1, count: batch.count)
    for (e, entry) in batch.enumerated() {
        if case .condition(let k) = entry.input.source, conditions[entry.row][k] == absentConditionToken { continue }
        index[e] = kept.count
        kept.append(e)
    }
    return (kept, index)
}

/// Writes the embedding of each kept input `batch[kept[j]]` to `x + j·dim`: a condition token's own id, an
/// image token's id from `imageID(code)`, an end-of-line token's `lineEnd`.
func embedInputs(_ batch: [BatchInput], kept: [Int], conditions: [[Int]], embedding: EmbeddingRows,
                 imageID: (Int) -> Int, lineEnd: Int, into x: UnsafeMutablePointer<Float>, dim: Int) {
    for (j, e) in kept.enumerated() {
        let entry = batch[e]
        let id: Int
        switch entry.input.source {
        case .condition(let k): id = conditions[entry.row][k]
        case .token(let code): id = imageID(code)
        case .lineEnd: id = lineEnd
        }
        embedding.copyRow(id, to: x + j * dim)
    }
}
