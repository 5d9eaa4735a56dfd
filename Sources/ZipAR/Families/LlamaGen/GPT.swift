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
        let rope = RoPE2D(gridSize: config.gridSize, headDim: config.headDim, base: config.rope_base,
                          conditionTokens: config.cls_token_num)
        stack = TransformerStack(shape: config.shape, layers: weights.layers, norm: weights.norm, rotary: .grid(rope))
    }

    public var imageVocabulary: Int { config.vocab_size }
    public var gridHeight: Int { config.gridSize }
    public var gridWidth: Int { config.gridSize }
    public var maxConditionTokens: Int { config.cls_token_num }
    public var precision: WeightPrecision { weights.precision }

    /// The sequence layout: [class token, image tokens in raster order].
    public var layout: SequenceLayout {
        SequenceLayout(conditionTokens: config.cls_token_num, height: config.gridSize, width: config.gridSize)
    }

    public func accepts(_ condition: ImageCondition) -> Bool {
        if case .classLabel = condition { return true }
        return false
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

    public func forward(_ inputs: [ModelInput], conditions: [[Int]], cache: KVCache, visibility: Visibility,
                        logitsFor: [Int]) -> UnsafeBufferPointer<Float> {
        let dim = config.dim, n = inputs.count, batch = cache.batch, vocab = config.vocab_size
        precondition(conditions.count == batch, "one condition row per batch row")
        // x[b·n + i] = embedding of input i in batch row b
        let x = self.x.reserve(batch * n * dim)
        for b in 0..<batch {
            for (i, input) in inputs.enumerated() {
                let out = x + (b * n + i) * dim
                switch input.source {
                case .condition(let k): weights.classEmbedding.copyRow(conditions[b][k], to: out)
                case .token(let t): weights.tokenEmbedding.copyRow(t, to: out)
                }
            }
        }
        stack.run(x, inputs: inputs, cache: cache, visibility: visibility)
        // head: logits only for the inputs that are sampled
        let m = batch * logitsFor.count
        let h = self.h.reserve(m * dim), out = logits.reserve(m * vocab)
        stack.finalNorm(x, rows: (0..<batch).flatMap { b in logitsFor.map { b * n + $0 } }, out: h)
        if m > 0 { weights.output.apply(h, m: m, to: out) }
        return UnsafeBufferPointer(start: out, count: m * vocab)
    }
}
