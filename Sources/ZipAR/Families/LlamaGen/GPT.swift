import Foundation

/// LlamaGen's class-to-image transformer (2D RoPE, fused wqkv, SwiGLU, RMSNorm, untied head): the class
/// embedding for the condition, the token embedding for image tokens, the shared decoder stack, and the
/// output head over the image vocabulary.
public final class GPT: ImageTokenModel {
    public let config: GPTConfig
    public let weights: GPTWeights
    let stack: TransformerStack
    private let x = GrowableBuffer(), h = GrowableBuffer(), logits = GrowableBuffer()

    public init(config: GPTConfig, weights: GPTWeights) {
        self.config = config
        self.weights = weights
        let rope = Rotary.llamaGen2D(gridSize: config.gridSize, headDim: config.headDim, base: config.rope_base,
                                     conditionTokens: config.cls_token_num)
        stack = TransformerStack(shape: config.shape, layers: weights.layers, norm: weights.norm, rotary: rope)
    }

    public var imageVocabulary: Int { config.vocab_size }
    public var gridHeight: Int { config.gridSize }
    public var gridWidth: Int { config.gridSize }
    public var maxConditionTokens: Int { config.cls_token_num }
    public var precision: WeightPrecision { weights.precision }
    public var weightBytes: Int { weights.byteCount }

    /// The sequence layout: [class token, image tokens in raster order].
    public var layout: SequenceLayout {
        SequenceLayout(conditionTokens: config.cls_token_num, height: config.gridSize, width: config.gridSize)
    }

    /// The class row, and the null class (`num_classes`) as the unconditional row.
    public func conditioning(_ condition: ImageCondition, guidance: Bool) throws -> Conditioning {
        guard case .classLabel(let label) = condition else { throw GenerationError.wrongCondition(expected: "a class label") }
        guard label >= 0, label < config.num_classes else {
            throw GenerationError.classLabelOutOfRange(label, classes: config.num_classes)
        }
        if guidance && config.classTableRows <= config.num_classes { throw GenerationError.guidanceNeedsNullClass }
        return Conditioning(rows: guidance ? [[label], [config.num_classes]] : [[label]], layout: layout)
    }

    public func makeCache(batch: Int, slots: Int) -> KVCache { stack.makeCache(batch: batch, slots: slots) }

    /// A cache for `batch` rows over the whole sequence (class token and grid).
    public func makeCache(batch: Int) -> KVCache { makeCache(batch: batch, slots: config.cls_token_num + config.block_size) }

    public func forward(batch: [BatchInput], conditions: [[Int]], cache: KVCache, logitsFor: [Int]) -> UnsafeBufferPointer<Float> {
        let dim = config.dim, vocab = config.vocab_size
        // x[e] = embedding of batch input e
        let x = self.x.reserve(batch.count * dim)
        for (e, entry) in batch.enumerated() {
            switch entry.input.source {
            case .condition(let k): weights.classEmbedding.copyRow(conditions[entry.row][k], to: x + e * dim)
            case .token(let t): weights.tokenEmbedding.copyRow(t, to: x + e * dim)
            case .lineEnd: preconditionFailure("LlamaGen has no end-of-line token")
            }
        }
        stack.run(x, batch: batch, cache: cache)
        // head: logits only for the inputs that are sampled
        let m = logitsFor.count
        let h = self.h.reserve(m * dim), out = logits.reserve(m * vocab)
        stack.finalNorm(x, rows: logitsFor, out: h)
        if m > 0 { weights.output.apply(h, m: m, to: out) }
        return UnsafeBufferPointer(start: out, count: m * vocab)
    }
}
