import Foundation

/// Lumina-mGPT's image generation (Alpha-VLLM; the Chameleon architecture): Llama layers with per-head
/// q/k LayerNorm before 1D rotate-half RoPE, RMSNorm, SwiGLU; the shared head read only at the image-token
/// rows, so logits are over VQ codes in code order. The sequence is the prompt, the header (`<racm3:break>`,
/// H, W), then the image rows, each ended by the end-of-line token (`SequenceLayout` with line ends).
///
/// Classifier-free guidance as each reference builds its unconditional row: for `raster`, upstream
/// Lumina-mGPT's unbatched context `[<racm3:break>, H, W, …]` (the prompt's slots are absent from that row:
/// never fed, never visible; its positions are those of the conditional row, which RoPE's relative
/// scores do not see); for the ZipAR schedules, the released code's batched prompt `[<s>, <pad>, …]` of the
/// prompt's length followed by the same header.
public final class LuminaModel: ImageTokenModel {
    public let config: LuminaConfig
    public let weights: LuminaWeights
    public let prompt: LuminaPrompt
    /// Pixels per side as the prompt states them (32 per size unit); the grid is 2 tokens per unit.
    public let imageSize: Int
    let stack: TransformerStack
    private let x = GrowableBuffer(), normed = GrowableBuffer(), logits = GrowableBuffer()

    /// Condition tokens of the unconditional row that are absent (raster's unbatched context).
    static let absent = absentConditionToken

    /// `imageSize` must have a size token in `prompt` (what `load` checks, with its error).
    public init(config: LuminaConfig, weights: LuminaWeights, prompt: LuminaPrompt, imageSize: Int) {
        precondition(imageSize % LuminaPrompt.pixelsPerSizeUnit == 0 && prompt.sizeTokens[imageSize / LuminaPrompt.pixelsPerSizeUnit] != nil,
                     "image size \(imageSize) has no size token")
        self.config = config
        self.weights = weights
        self.prompt = prompt
        self.imageSize = imageSize
        let t = config.text
        stack = TransformerStack(shape: t.shape, layers: weights.layers, norm: weights.norm,
                                 rotary: .llama1D(positions: t.max_position_embeddings, headDim: t.shape.headDim, base: t.rope_theta),
                                 qkNorms: weights.qkNorms)
    }

    public var imageVocabulary: Int { weights.head.rows }
    public var gridHeight: Int { imageSize / LuminaPrompt.pixelsPerSizeUnit * LuminaPrompt.tokensPerSizeUnit }
    public var gridWidth: Int { gridHeight }
    public var rowsEndInLineEnd: Bool { true }
    public var maxConditionTokens: Int { max(0, config.text.max_position_embeddings - 3 - gridHeight * (gridWidth + 1)) }
    public var precision: WeightPrecision { weights.precision }
    public var weightBytes: Int { weights.byteCount }

    /// The header [<racm3:break>, H, W] of this image size.
    var header: [Int] {
        let size = prompt.sizeTokens[imageSize / LuminaPrompt.pixelsPerSizeUnit]!
        return [prompt.beginOfImage, size, size]
    }

    public func conditioning(_ condition: ImageCondition, guidance: Bool) throws -> Conditioning {
        try conditioning(condition, guidance: guidance, schedule: "zipar-reference")
    }

    public func conditioning(_ condition: ImageCondition, guidance: Bool, schedule: String) throws -> Conditioning {
        let ids: [Int]
        switch condition {
        case .prompt(let text): ids = try prompt.tokens(text, pixels: imageSize)
        case .promptTokens(let given): ids = given
        case .classLabel: throw GenerationError.wrongCondition(expected: "a text prompt")
        }
        guard !ids.isEmpty, ids.allSatisfy({ (0..<config.text.vocab_size).contains($0) }) else {
            throw GenerationError.wrongCondition(expected: "prompt tokens inside its vocabulary of \(config.text.vocab_size)")
        }
        guard ids.count <= maxConditionTokens else { throw GenerationError.promptTooLong(tokens: ids.count, limit: maxConditionTokens) }
        let layout = SequenceLayout(conditionTokens: ids.count + 3, height: gridHeight, width: gridWidth, lineEnd: true, header: 3)
        guard guidance else { return Conditioning(rows: [ids + header], layout: layout) }
        let unconditional = schedule == "raster" ? [Int](repeating: LuminaModel.absent, count: ids.count)
            : [prompt.bos] + [Int](repeating: prompt.pad, count: ids.count - 1)
        return Conditioning(rows: [ids + header, unconditional + header], layout: layout)
    }

    public func makeCache(batch: Int, slots: Int) -> KVCache { stack.makeCache(batch: batch, slots: slots) }

    public func forward(batch: [BatchInput], conditions: [[Int]], cache: KVCache, logitsFor: [Int]) -> UnsafeBufferPointer<Float> {
        let dim = config.text.hidden_size
        let (kept, index) = presentInputs(batch, conditions: conditions)
        let x = self.x.reserve(max(kept.count, 1) * dim)
        embedInputs(batch, kept: kept, conditions: conditions, embedding: weights.embedding,
                    imageID: { prompt.imageIDs[$0] }, lineEnd: prompt.endOfLine, into: x, dim: dim)
        if !kept.isEmpty { stack.run(x, batch: kept.map { batch[$0] }, cache: cache) }
        let rows = logitsFor.map { index[$0] }
        precondition(rows.allSatisfy { $0 >= 0 }, "logits asked of an absent input")
        let m = rows.count, codes = weights.head.rows
        let h = normed.reserve(max(m, 1) * dim), out = logits.reserve(max(m, 1) * codes)
        stack.finalNorm(x, rows: rows, out: h)
        if m > 0 { weights.head.apply(h, m: m, to: out) }
        return UnsafeBufferPointer(start: out, count: m * codes)
    }
}
