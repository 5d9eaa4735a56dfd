import Foundation

/// A Lumina-mGPT model at given shapes with random weights (no tokenizer: the image ids are the real
/// layout's 4 …, unpermuted), and the pre-tokenized prompt it is timed with.
public struct LuminaBenchModel: Sendable {
    public var config: LuminaConfig
    /// Pixels per side as the prompt states them (768: 48×48 tokens).
    public var imageSize: Int
    /// BOS, random text ids, `<reserved08706>` (the unconditional row is [<s>, <pad>, …]).
    public var promptTokens: [Int]
    /// Image tokens (VQ codes).
    public static let codes = 8192

    /// `layers` Chameleon layers of width `dim` (MHA), Lumina's vocabulary and context, a `promptLength`-token prompt.
    public init(dim: Int, layers: Int, heads: Int, ffn: Int, vocab: Int = 65536, maxPositions: Int = 10240,
                imageSize: Int = 768, promptLength: Int = 40) {
        let fields: [String: Any] = [
            "vocab_size": vocab, "hidden_size": dim, "intermediate_size": ffn, "num_hidden_layers": layers,
            "num_attention_heads": heads, "num_key_value_heads": heads, "max_position_embeddings": maxPositions,
            "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
        ]
        let text = try! JSONDecoder().decode(LlamaTextConfig.self, from: try! JSONSerialization.data(withJSONObject: fields))
        config = LuminaConfig(text: text, model_parallel_size: 1, swin_norm: false)
        self.imageSize = imageSize
        precondition(promptLength >= 2 && vocab > 9000, "a prompt of BOS … <reserved08706> in Chameleon's id layout")
        var rng = RandomSource(seed: 17)
        let middle = (0..<promptLength - 2).map { _ in 8904 + Int(rng.next() % UInt64(vocab - 8904)) }  // text ids
        promptTokens = [0] + middle + [8710]
    }

    /// Lumina-mGPT-7B: hidden 4096, 32 layers, 32/32 heads (head_dim 128), FFN 11008, vocabulary 65536, 768 px.
    public static var lumina7B: LuminaBenchModel { LuminaBenchModel(dim: 4096, layers: 32, heads: 32, ffn: 11008) }

    /// The model with random weights (uniform, std 0.02; norms 1, q/k norm biases 0) from `seed`.
    public func model(seed: UInt64, precision: WeightPrecision) -> LuminaModel {
        let prompt = LuminaPrompt(tokenizer: nil, bos: 0, pad: 1, beginOfImage: 8197, endOfLine: 8803,
                                  imageIDs: (0..<LuminaBenchModel.codes).map { 4 + $0 },
                                  sizeTokens: [imageSize / LuminaPrompt.pixelsPerSizeUnit: 8804 + imageSize / LuminaPrompt.pixelsPerSizeUnit])
        return LuminaModel(config: config, weights: LuminaWeights(randomFor: config, codes: LuminaBenchModel.codes, seed: seed, precision: precision),
                           prompt: prompt, imageSize: imageSize)
    }
}

extension LuminaWeights: LlamaLayoutWeights {
    /// Random weights at `config`'s shapes with a head of `codes` rows (uniform, std 0.02; norms 1, q/k norm
    /// biases 0), built fast for benchmarks.
    public init(randomFor config: LuminaConfig, codes: Int, seed: UInt64, precision: WeightPrecision) {
        let s = config.text.shape
        let r = RandomLlamaWeights(shape: s, vocab: config.text.vocab_size, codes: codes, seed: seed, precision: precision)
        embedding = r.embedding
        layers = r.layers
        norm = r.norm
        head = r.head
        let q = s.heads * s.headDim, k = s.kvHeads * s.headDim
        qkNorms = (0..<s.layers).map { _ in
            QKNormWeights(queryWeight: [Float](repeating: 1, count: q), queryBias: [Float](repeating: 0, count: q),
                          keyWeight: [Float](repeating: 1, count: k), keyBias: [Float](repeating: 0, count: k))
        }
    }

    /// The q/k LayerNorms' weights and biases.
    var extraSmallParameterCount: Int { qkNorms.reduce(0) { $0 + $1.parameterCount } }
}
