import Foundation

extension ImageGenerator {
    /// Mean negative log-likelihood per token (nats) of a full token grid (raster order) under the model
    /// read in raster order: how likely raster decoding finds the image, a cheap quality proxy for
    /// schedules that decode with less context. One pass by teacher forcing feeds the condition and every
    /// token but the last at its own position (static causal attention, what raster decoding conditions
    /// on); token k is scored by the distribution raster decoding draws it from at temperature 1 with no
    /// top-k/top-p filtering: the CFG mix of `options` while the cfg-interval rule keeps guidance on.
    public func teacherForcedNLL(tokens: [Int], options: GenerationOptions) throws -> Double {
        let guided = options.cfgScale > 1
        let conditioning = try model.conditioning(options.condition, guidance: guided)
        let layout = conditioning.layout, conditions = conditioning.rows
        let cells = layout.height * layout.width, vocab = model.imageVocabulary
        precondition(tokens.count == cells, "\(tokens.count) tokens for a \(cells)-cell grid")
        let cache = model.makeCache(batch: conditions.count, slots: layout.slots)
        let inputs = layout.prefill().inputs
            + tokens.dropLast().enumerated().map { ModelInput(.token($1), position: layout.conditionTokens + $0) }
        let scored = Array((layout.conditionTokens - 1)..<(inputs.count))
        let logits = model.forward(inputs, conditions: conditions, cache: cache, visibility: .staticCausal, logitsFor: scored)
        var mixed = [Float](repeating: 0, count: vocab)
        var total = 0.0
        for (k, token) in tokens.enumerated() {
            let cond = logits.baseAddress! + k * vocab
            let guide = guided && DecodingPass.guidance(tokensDone: k, cfgInterval: options.cfgInterval)
            for v in 0..<vocab {
                mixed[v] = guide ? cond[v + cells * vocab] + (cond[v] - cond[v + cells * vocab]) * options.cfgScale : cond[v]
            }
            let top = mixed.max()!
            let logSum = log(mixed.reduce(0.0) { $0 + exp(Double($1 - top)) }) + Double(top)
            total += logSum - Double(mixed[token])
        }
        return total / Double(cells)
    }
}
