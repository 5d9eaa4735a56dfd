import Foundation

/// Emu3-Gen's image generation (BAAI; transformers' `Emu3ForConditionalGeneration`): a Llama with GQA,
/// RMSNorm, SwiGLU and 1D rotate-half RoPE (θ from the config); the shared head read only at the visual
/// tokens' rows, so logits are over VQ codes in code order. The sequence is BOS + prompt +
/// `<|image start|>H*W<|image token|>`, then the image rows, each ended by `<|extra_200|>` (end of line):
/// a `SequenceLayout` with line ends, no header.
///
/// Classifier-free guidance as Emu3 runs it: the negative prompt (`negativePrompt`, Emu3's default unless
/// set) is a sequence of its own, prompt built the same way, fed the same image tokens. The two prompts
/// differ in length; both condition rows are left-padded with `absent` to the longer one, absent tokens
/// are never run and never visible, and each row's rotary positions are shifted back by its padding, so
/// each branch sees exactly its own sequence at its own positions 0, 1, … (the KV slots are shared).
/// Emu3 mixes `s·(log p_c − log p_u) + log p_u` over the full vocabulary; the generation loop mixes the
/// raw visual-token logits `u + s·(c − u)`. The two differ by a constant per cell (the branches'
/// log-sum-exps), so the same token wins and the same distribution is sampled; see docs/emu3.md.
public final class Emu3Model: ImageTokenModel {
    public let config: Emu3Config
    public let weights: Emu3Weights
    public let prompt: Emu3Prompt
    public let gridHeight: Int, gridWidth: Int
    /// The negative prompt of the unconditional branch.
    public var negativePrompt = Emu3Prompt.defaultNegative
    /// The negative prompt pre-tokenized (BOS … `<|image token|>`); when set it replaces `negativePrompt`
    /// (a model without a tokenizer, as `zipar bench` builds).
    public var negativePromptTokens: [Int]?
    let stack: TransformerStack
    private let x = GrowableBuffer(), normed = GrowableBuffer(), logits = GrowableBuffer()

    /// Condition tokens of a row that are absent (the padding of the shorter prompt).
    static let absent = absentConditionToken

    public init(config: Emu3Config, weights: Emu3Weights, prompt: Emu3Prompt, height: Int, width: Int) {
        precondition(height > 0 && width > 0, "a grid of at least one token")
        self.config = config
        self.weights = weights
        self.prompt = prompt
        gridHeight = height
        gridWidth = width
        let t = config.text
        stack = TransformerStack(shape: t.shape, layers: weights.layers, norm: weights.norm,
                                 rotary: .llama1D(positions: t.max_position_embeddings, headDim: t.shape.headDim, base: t.rope_theta))
    }

    public var imageVocabulary: Int { weights.head.rows }
    public var rowsEndInLineEnd: Bool { true }
    /// Room for the condition beside the rows and the 3 tokens after them (EOF, EOI, EOS).
    public var maxConditionTokens: Int { max(0, config.text.max_position_embeddings - 3 - gridHeight * (gridWidth + 1)) }
    public var precision: WeightPrecision { weights.precision }
    public var weightBytes: Int { weights.byteCount }

    private func ids(_ condition: ImageCondition) throws -> [Int] {
        switch condition {
        case .prompt(let text): return try prompt.tokens(text, height: gridHeight, width: gridWidth)
        case .promptTokens(let given): return given
        case .classLabel: throw GenerationError.wrongCondition(expected: "a text prompt")
        }
    }

    /// The rows are as long as the longer of prompt and negative prompt with or without guidance, so the
    /// layout (what schedules are built for) does not depend on it.
    public func conditioning(_ condition: ImageCondition, guidance: Bool) throws -> Conditioning {
        try conditioning(condition, guidance: guidance, schedule: ScheduleSpec.raster.description, negativePrompt: nil)
    }

    /// As above with `negativePrompt` (when given) in place of the model's.
    public func conditioning(_ condition: ImageCondition, guidance: Bool, schedule: String, negativePrompt given: String?) throws -> Conditioning {
        let negative = try given.map { try prompt.tokens($0, height: gridHeight, width: gridWidth) }
            ?? negativePromptTokens ?? prompt.tokens(negativePrompt, height: gridHeight, width: gridWidth)
        var rows = [try ids(condition), negative]
        for ids in rows {
            guard !ids.isEmpty, ids.allSatisfy({ (0..<config.text.vocab_size).contains($0) }) else {
                throw GenerationError.wrongCondition(expected: "prompt tokens inside its vocabulary of \(config.text.vocab_size)")
            }
            guard ids.count <= maxConditionTokens else { throw GenerationError.promptTooLong(tokens: ids.count, limit: maxConditionTokens) }
        }
        let n = rows.map(\.count).max()!
        if !guidance { rows.removeLast() }
        let layout = SequenceLayout(conditionTokens: n, height: gridHeight, width: gridWidth, lineEnd: true)
        return Conditioning(rows: rows.map { [Int](repeating: Emu3Model.absent, count: n - $0.count) + $0 }, layout: layout)
    }

    public func makeCache(batch: Int, slots: Int) -> KVCache { stack.makeCache(batch: batch, slots: slots) }

    public func forward(batch: [BatchInput], conditions: [[Int]], cache: KVCache, logitsFor: [Int]) -> UnsafeBufferPointer<Float> {
        let dim = config.text.hidden_size, v = prompt.vocabulary
        let padding = conditions.map { row in row.prefix { $0 == Emu3Model.absent }.count }
        let (kept, index) = presentInputs(batch, conditions: conditions)
        let x = self.x.reserve(max(kept.count, 1) * dim)
        embedInputs(batch, kept: kept, conditions: conditions, embedding: weights.embedding,
                    imageID: { v.visualIDs[$0] }, lineEnd: v.endOfLine, into: x, dim: dim)
        if !kept.isEmpty {
            stack.run(x, batch: kept.map { batch[$0] }, cache: cache, rotaryShift: padding.contains { $0 > 0 } ? padding : nil)
        }
        let rows = logitsFor.map { index[$0] }
        precondition(rows.allSatisfy { $0 >= 0 }, "logits asked of an absent input")
        let m = rows.count, codes = weights.head.rows
        let h = normed.reserve(max(m, 1) * dim), out = logits.reserve(max(m, 1) * codes)
        stack.finalNorm(x, rows: rows, out: h)
        if m > 0 { weights.head.apply(h, m: m, to: out) }
        return UnsafeBufferPointer(start: out, count: m * codes)
    }
}
