import Foundation

/// Janus-Pro's image generation path (deepseek-ai; transformers' `JanusForConditionalGeneration` in image
/// mode): prompt tokens through the text embedding, image tokens through gen_embed and the GELU aligner,
/// the Llama decoder stack with 1D rotate-half RoPE, and the generation head (Linear, GELU, Linear) over
/// the VQ codes. Image tokens are VQ-16 codes directly.
public final class JanusModel: ImageTokenModel {
    public let config: JanusConfig
    public let weights: JanusWeights
    public let prompt: JanusPrompt
    let stack: TransformerStack
    private let x = GrowableBuffer(), embed = GrowableBuffer(), a = GrowableBuffer(), b = GrowableBuffer()

    public init(config: JanusConfig, weights: JanusWeights, prompt: JanusPrompt) {
        self.config = config
        self.weights = weights
        self.prompt = prompt
        let t = config.text
        stack = TransformerStack(shape: t.shape, layers: weights.layers, norm: weights.norm,
                                 rotary: .llama1D(positions: t.max_position_embeddings, headDim: t.shape.headDim, base: t.rope_theta))
    }

    public var imageVocabulary: Int { weights.imageVocabulary }
    public var gridHeight: Int { config.gridSide }
    public var gridWidth: Int { config.gridSide }
    public var maxConditionTokens: Int { max(0, config.text.max_position_embeddings - config.gridSide * config.gridSide) }
    public var precision: WeightPrecision { weights.precision }
    public var weightBytes: Int { weights.byteCount }

    /// The prompt in Janus's template; the unconditional row keeps BOS and `<begin_of_image>` and pads the rest.
    public func conditioning(_ condition: ImageCondition, guidance: Bool) throws -> Conditioning {
        let ids: [Int]
        switch condition {
        case .prompt(let text): ids = try prompt.tokens(text)
        case .promptTokens(let given): ids = given
        case .classLabel: throw GenerationError.wrongCondition(expected: "a text prompt")
        }
        guard !ids.isEmpty, ids.allSatisfy({ (0..<config.text.vocab_size).contains($0) }) else {
            throw GenerationError.wrongCondition(expected: "prompt tokens inside its vocabulary of \(config.text.vocab_size)")
        }
        guard ids.count <= maxConditionTokens else { throw GenerationError.promptTooLong(tokens: ids.count, limit: maxConditionTokens) }
        let layout = SequenceLayout(conditionTokens: ids.count, height: gridHeight, width: gridWidth)
        return Conditioning(rows: guidance ? [ids, prompt.unconditional(ids)] : [ids], layout: layout)
    }

    public func makeCache(batch: Int, slots: Int) -> KVCache { stack.makeCache(batch: batch, slots: slots) }

    public func forward(batch: [BatchInput], conditions: [[Int]], cache: KVCache, logitsFor: [Int]) -> UnsafeBufferPointer<Float> {
        let dim = config.text.hidden_size
        let x = self.x.reserve(batch.count * dim)
        // prompt tokens: the text embedding; image tokens: aligner(gen_embed[t]), computed per input row
        var tokenRows: [Int] = [], tokens: [Int] = []
        for (e, entry) in batch.enumerated() {
            switch entry.input.source {
            case .condition(let k): weights.textEmbedding.copyRow(conditions[entry.row][k], to: x + e * dim)
            case .token(let t): tokenRows.append(e); tokens.append(t)
            case .lineEnd: preconditionFailure("Janus has no end-of-line token")
            }
        }
        let aligned = align(tokens)
        for (j, e) in tokenRows.enumerated() { (x + e * dim).update(from: aligned + j * dim, count: dim) }
        stack.run(x, batch: batch, cache: cache)
        return head(x, rows: logitsFor)
    }

    /// aligner(gen_embed[t]) for each token, [tokens.count, dim].
    private func align(_ tokens: [Int]) -> UnsafeMutablePointer<Float> {
        let e = weights.imageEmbedDim, m = tokens.count
        var width = e
        for l in weights.aligner { width = max(width, l.outputs) }
        var input = embed.reserve(max(m, 1) * width), output = a.reserve(max(m, 1) * width)
        weights.imageEmbedding.withUnsafeBufferPointer { table in
            for (j, t) in tokens.enumerated() { (input + j * e).update(from: table.baseAddress! + t * e, count: e) }
        }
        for (k, layer) in weights.aligner.enumerated() {
            if k > 0 { geluInPlace(input, count: m * layer.inputs) }
            layer.apply(input, m: m, to: output)
            swap(&input, &output)
        }
        return input
    }

    /// The generation head over the final-normed hidden states of `rows`: [rows.count, codes].
    private func head(_ x: UnsafePointer<Float>, rows: [Int]) -> UnsafeBufferPointer<Float> {
        let m = rows.count, dim = config.text.hidden_size, p = weights.headProjection, o = weights.headOutput
        let normed = embed.reserve(max(m, 1) * dim), hidden = a.reserve(max(m, 1) * p.outputs)
        let logits = b.reserve(max(m, 1) * o.outputs)
        stack.finalNorm(x, rows: rows, out: normed)
        p.apply(normed, m: m, to: hidden)
        geluInPlace(hidden, count: m * p.outputs)
        o.apply(hidden, m: m, to: logits)
        return UnsafeBufferPointer(start: logits, count: m * o.outputs)
    }
}
