import Foundation

/// A benchmark's model built with random weights: the generator and condition to time, and the sizes
/// the floors and the memory budget are computed from.
struct BuiltBenchmarkModel {
    var generator: ImageGenerator
    var options: GenerationOptions
    var family: String
    var shape: TransformerShape
    /// Image-token vocabulary (logit rows).
    var vocabSize: Int
    /// Condition tokens before the grid (class tokens, or the prompt).
    var conditionTokens: Int
    /// Weights in total (Janus: the text embedding included, though it is never stored).
    var parameters: Int
    /// Elements of the matrices one pass streams (layers, head, aligner): the FLOP floor's weights.
    var streamedParameters: Int
    /// Bytes one pass reads in full: those matrices packed, plus the norms.
    var bytesReadPerPass: Int
    /// Bytes of every weight the model keeps in memory (packed matrices, norms, biases, stored embeddings).
    var residentWeightBytes: Int
    /// Bytes of the KV cache for one image (the CFG pair: batch 2), keys and values, every slot.
    var kvCacheBytes: Int
    /// Seconds to build the random weights.
    var loadSeconds: Double
}

extension BuiltBenchmarkModel {
    static func build(_ plan: BenchmarkPlan) throws -> BuiltBenchmarkModel {
        func kvBytes(_ s: TransformerShape, slots: Int) -> Int { BuiltBenchmarkModel.kvBytes(plan, s, slots: slots) }
        switch plan.model {
        case .llamaGen(let c):
            var weights: GPTWeights!
            let load = Stopwatch.time { weights = GPTWeights(uniformRandomFor: c, seed: plan.weightSeed, precision: plan.precision) }
            let generator = ImageGenerator(model: GPT(config: c, weights: weights))
            let options = GenerationOptions(classLabel: plan.classLabel, cfgScale: plan.cfgScale, sampling: plan.sampling, seed: plan.seed)
            let layout = try generator.layout(for: options.condition)
            return BuiltBenchmarkModel(
                generator: generator, options: options, family: "llamagen", shape: c.shape, vocabSize: c.vocab_size,
                conditionTokens: layout.conditionTokens, parameters: weights.parameterCount,
                streamedParameters: weights.streamedParameterCount, bytesReadPerPass: weights.bytesReadPerPass,
                residentWeightBytes: weights.byteCount, kvCacheBytes: kvBytes(c.shape, slots: layout.slots), loadSeconds: load)
        case .janus(let j):
            var weights: JanusWeights!
            let load = Stopwatch.time {
                weights = JanusWeights(randomFor: j.config, codes: j.codes, embedDim: j.embedDim, headWidth: j.headWidth,
                                       seed: plan.weightSeed, precision: plan.precision)
            }
            let prompt = JanusPrompt(tokenizer: nil, bos: j.bos, pad: j.pad, beginOfImage: j.beginOfImage)
            let generator = ImageGenerator(model: JanusModel(config: j.config, weights: weights, prompt: prompt))
            let options = GenerationOptions(condition: .promptTokens(j.promptTokens), cfgScale: plan.cfgScale,
                                            sampling: plan.sampling, seed: plan.seed)
            let layout = try generator.layout(for: options.condition)
            let s = j.config.text.shape
            return BuiltBenchmarkModel(
                generator: generator, options: options, family: "janus", shape: s, vocabSize: weights.imageVocabulary,
                conditionTokens: layout.conditionTokens,
                parameters: weights.streamedParameterCount + weights.textEmbedding.rows * s.dim + weights.smallParameterCount,
                streamedParameters: weights.streamedParameterCount,
                bytesReadPerPass: weights.streamedBytes + weights.normCount * MemoryLayout<Float>.size,
                residentWeightBytes: weights.byteCount,
                kvCacheBytes: kvBytes(s, slots: layout.slots), loadSeconds: load)
        case .lumina(let l):
            var model: LuminaModel!
            let load = Stopwatch.time { model = l.model(seed: plan.weightSeed, precision: plan.precision) }
            return try llamaLayout(model, weights: model.weights, shape: l.config.text.shape, family: "lumina",
                                   prompt: l.promptTokens, plan: plan, loadSeconds: load)
        case .emu3(let e):
            var model: Emu3Model!
            let load = Stopwatch.time { model = e.model(seed: plan.weightSeed, precision: plan.precision) }
            return try llamaLayout(model, weights: model.weights, shape: e.config.text.shape, family: "emu3",
                                   prompt: e.promptTokens, plan: plan, loadSeconds: load)
        }
    }

    /// Bytes of one image's KV cache (both CFG rows when guided) of `slots` slots.
    private static func kvBytes(_ plan: BenchmarkPlan, _ s: TransformerShape, slots: Int) -> Int {
        (plan.cfgScale > 1 ? 2 : 1) * s.layers * s.kvHeads * slots * s.headDim * 2 * plan.precision.size
    }

    /// A Llama-layout text-to-image model (Lumina-mGPT, Emu3) timed on the pre-tokenized `prompt`.
    private static func llamaLayout(_ model: any ImageTokenModel, weights w: some LlamaLayoutWeights, shape s: TransformerShape,
                                    family: String, prompt: [Int], plan: BenchmarkPlan, loadSeconds: Double) throws -> BuiltBenchmarkModel {
        let generator = ImageGenerator(model: model)
        let options = GenerationOptions(condition: .promptTokens(prompt), cfgScale: plan.cfgScale, sampling: plan.sampling, seed: plan.seed)
        let layout = try generator.layout(for: options.condition)
        return BuiltBenchmarkModel(
            generator: generator, options: options, family: family, shape: s, vocabSize: w.head.rows,
            conditionTokens: layout.conditionTokens,
            parameters: w.streamedParameterCount + w.embedding.rows * s.dim + w.smallParameterCount,
            streamedParameters: w.streamedParameterCount, bytesReadPerPass: w.byteCount, residentWeightBytes: w.byteCount,
            kvCacheBytes: kvBytes(plan, s, slots: layout.slots), loadSeconds: loadSeconds)
    }
}

extension JanusWeights {
    /// Elements of the matrices `streamedBytes` counts (layers, generation head, aligner).
    var streamedParameterCount: Int {
        let matrices = layers.flatMap(\.matrices) + [headProjection.weight, headOutput.weight] + aligner.map(\.weight)
        return matrices.reduce(0) { $0 + $1.rows * $1.cols }
    }
}
