import Foundation

/// An Emu3-Gen model at given shapes with random weights (no tokenizer) in Emu3-Gen's id layout (the
/// visual tokens are the last `codes` ids, `<|image token|>`, `<|image start|>`, `<|image end|>` just below
/// them, then `<|extra_0…204|>`: at the real shapes every id equals BAAI/Emu3-Gen's), and the
/// pre-tokenized prompt and negative prompt it is timed with.
public struct Emu3BenchModel: Sendable {
    public var config: Emu3Config
    /// Tokens per image side (90: 720 px at 8 px per token).
    public var grid: Int
    /// VQ codes (visual tokens, lm_head rows computed per pass).
    public var codes: Int
    /// BOS, random text ids, `<|image start|>`, random ids standing for `H*W`, `<|image token|>`.
    public var promptTokens: [Int]
    /// The unconditional branch's prompt, built the same way.
    public var negativePromptTokens: [Int]

    /// `layers` Llama layers of width `dim` (`heads` query and `kvHeads` key-value heads, head_dim dim/heads),
    /// RoPE θ 1e6, Emu3-Gen's vocabulary and context, a `grid`² image; a `promptLength`-token prompt (23:
    /// transformers' Emu3 test prompt) and a `negativeLength`-token negative prompt (55: about Emu3's default
    /// negative prompt with BOS and the image prefix; an estimate, no tokenizer here).
    public init(dim: Int, layers: Int, heads: Int, kvHeads: Int, ffn: Int, vocab: Int = 184_622, codes: Int = 32768,
                maxPositions: Int = 9216, grid: Int = 90, promptLength: Int = 23, negativeLength: Int = 55) {
        let fields: [String: Any] = [
            "vocab_size": vocab, "hidden_size": dim, "intermediate_size": ffn, "num_hidden_layers": layers,
            "num_attention_heads": heads, "num_key_value_heads": kvHeads, "max_position_embeddings": maxPositions,
            "rms_norm_eps": 1e-5, "rope_theta": 1_000_000.0, "hidden_act": "silu",
        ]
        let text = try! JSONDecoder().decode(LlamaTextConfig.self, from: try! JSONSerialization.data(withJSONObject: fields))
        let textIDs = vocab - codes - Emu3BenchModel.specialTokens
        let sizeTokens = "\(grid)*\(grid)".count
        precondition(textIDs > 0 && min(promptLength, negativeLength) >= sizeTokens + 3, "Emu3's id layout and prompt template")
        let map = Emu3BenchModel.vocabularyMap(vocab: vocab, codes: codes)
        config = Emu3Config(text: text, vocabularyMap: map, tieWordEmbeddings: false)
        self.grid = grid
        self.codes = codes
        let v = try! Emu3Vocabulary(map: map, path: "Emu3BenchModel")
        var rng = RandomSource(seed: 17)
        func random(_ n: Int) -> [Int] { (0..<n).map { _ in Int(rng.next() % UInt64(textIDs)) } }
        func prompt(_ length: Int) -> [Int] {
            [v.bos] + random(length - sizeTokens - 3) + [v.imageStart] + random(sizeTokens) + [v.imageToken]
        }
        promptTokens = prompt(promptLength)
        negativePromptTokens = prompt(negativeLength)
    }

    /// Emu3-Gen: hidden 4096, 32 layers, 32 query / 8 key-value heads (head_dim 128), FFN 14336, vocabulary
    /// 184622 with 32768 visual tokens, 90×90 tokens (720 px).
    public static var emu3Gen: Emu3BenchModel { Emu3BenchModel(dim: 4096, layers: 32, heads: 32, kvHeads: 8, ffn: 14336) }

    /// `<|endoftext|>`, `<|im_start|>`, `<|im_end|>`, `<|extra_0…204|>`, `<|image token|>`, `<|image start|>`,
    /// `<|image end|>`: the ids between the text and the visual tokens.
    static let specialTokens = 3 + 205 + 3

    /// Emu3-Gen's vocabulary_map entries for the tokens generation reads, laid out as BAAI/Emu3-Gen's.
    static func vocabularyMap(vocab: Int, codes: Int) -> [String: Int] {
        let visual = vocab - codes, extra = visual - 3 - 205, n = Emu3Vocabulary.names
        var map = [n.imageToken: visual - 3, n.imageStart: visual - 2, n.imageEnd: visual - 1, n.endOfLine: extra + 200,
                   n.endOfFrame: extra + 201, n.bos: extra + 203, n.eos: extra + 204]
        for code in 0..<codes { map[String(format: "<|visual token %06d|>", code)] = visual + code }
        return map
    }

    /// The model with random weights (uniform, std 0.02; norms 1) from `seed`, the negative prompt set.
    public func model(seed: UInt64, precision: WeightPrecision) -> Emu3Model {
        let vocabulary = try! Emu3Vocabulary(map: config.vocabularyMap, path: "Emu3BenchModel")
        let model = Emu3Model(config: config, weights: Emu3Weights(randomFor: config, codes: codes, seed: seed, precision: precision),
                              prompt: Emu3Prompt(tokenizer: nil, vocabulary: vocabulary), height: grid, width: grid)
        model.negativePromptTokens = negativePromptTokens
        return model
    }
}

extension Emu3Weights: LlamaLayoutWeights {
    /// Random weights at `config`'s shapes with a head of `codes` rows (uniform, std 0.02; norms 1), built
    /// fast for benchmarks.
    public init(randomFor config: Emu3Config, codes: Int, seed: UInt64, precision: WeightPrecision) {
        let r = RandomLlamaWeights(shape: config.text.shape, vocab: config.text.vocab_size, codes: codes, seed: seed, precision: precision)
        embedding = r.embedding
        layers = r.layers
        norm = r.norm
        head = r.head
        layout = .textModelFirst
    }
}
