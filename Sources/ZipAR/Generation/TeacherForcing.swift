import Foundation

extension ImageGenerator {
    /// Mean negative log-likelihood per token (nats) of a full token grid (raster order) under the model
    /// read in raster order: how likely raster decoding finds the image, a cheap quality proxy for
    /// schedules that decode with less context. One pass by teacher forcing feeds the condition and every
    /// token but the last at its own position, with the end-of-line tokens of a family whose rows end in one
    /// (the layout's causal attention and raster's unconditional row: what raster decoding conditions on);
    /// token k is scored by the distribution raster decoding draws it from at temperature 1 with no
    /// top-k/top-p filtering: the CFG mix of `options` while the cfg-interval rule keeps guidance on.
    public func teacherForcedNLL(tokens: [Int], options: GenerationOptions) throws -> Double {
        let guided = options.cfgScale > 1
        let conditioning = try model.conditioning(options.condition, guidance: guided, schedule: ScheduleSpec.raster.description)
        let layout = conditioning.layout, conditions = conditioning.rows
        let cells = layout.height * layout.width, vocab = model.imageVocabulary
        precondition(tokens.count == cells, "\(tokens.count) tokens for a \(cells)-cell grid")
        let cache = model.makeCache(batch: conditions.count, slots: layout.slots)
        // the condition, then every token but the last (and each row's end-of-line token, where rows have one)
        var inputs = (0..<layout.conditionTokens).map { ModelInput(.condition($0), position: $0) }
        var scored = [layout.conditionTokens - 1]  // the input whose output predicts cell k
        for (k, token) in tokens.dropLast().enumerated() {
            let (r, c) = k.quotientAndRemainder(dividingBy: layout.width)
            inputs.append(ModelInput(.token(token), position: layout.position(row: r, column: c)))
            if layout.hasLineEnd && c == layout.width - 1 { inputs.append(ModelInput(.lineEnd, position: layout.lineEndPosition(row: r))) }
            scored.append(inputs.count - 1)
        }
        let logits = model.forward(inputs, conditions: conditions, cache: cache, visibility: layout.visibility, logitsFor: scored)
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
