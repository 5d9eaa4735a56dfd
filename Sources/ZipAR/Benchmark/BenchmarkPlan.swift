import Foundation

/// The model a benchmark times: a LlamaGen class-to-image GPT, or a Janus-Pro, Lumina-mGPT or Emu3-Gen
/// text-to-image model (random weights at real shapes, either way).
public enum BenchmarkModel: Sendable {
    case llamaGen(GPTConfig)
    case janus(JanusBenchModel)
    case lumina(LuminaBenchModel)
    case emu3(Emu3BenchModel)

    /// The token grid's side (square grids).
    public var gridSide: Int {
        switch self {
        case .llamaGen(let g): return g.gridSize
        case .janus(let j): return j.config.gridSide
        case .lumina(let l): return l.imageSize / LuminaPrompt.pixelsPerSizeUnit * LuminaPrompt.tokensPerSizeUnit
        case .emu3(let e): return e.grid
        }
    }

    /// Whether image rows end in an end-of-line token (what zipar-reference's window counts).
    public var rowsEndInLineEnd: Bool {
        switch self {
        case .lumina, .emu3: return true
        case .llamaGen, .janus: return false
        }
    }
}

/// The image decoder a benchmark times with random weights at real shapes: LlamaGen's VQ (Janus's too)
/// or the decoder of Emu3's vision tokenizer.
public enum BenchmarkDecoder: Sendable {
    case vq(VQConfig)
    case emu3(Emu3VQConfig)
}

/// A Janus model at given shapes with random weights, and the pre-tokenized prompt it is timed with
/// (no tokenizer: `ImageCondition.promptTokens`).
public struct JanusBenchModel: Sendable {
    public var config: JanusConfig
    /// Image tokens (gen_embed rows, gen_head outputs, VQ codes).
    public var codes: Int
    /// gen_embed width.
    public var embedDim: Int
    /// The generation head's hidden width (gen_head: dim → headWidth → codes).
    public var headWidth: Int
    /// The conditional prompt: BOS, random ids, `<begin_of_image>` (the unconditional row pads the middle).
    public var promptTokens: [Int]
    public var bos = 100000, pad = 100002, beginOfImage = 100016

    /// `layers` Llama layers of width `dim` (MHA, head_dim 128 unless `heads` says otherwise), Janus-Pro's
    /// vocabulary, context and generation path at `codes` / `embedDim`, a `grid`² image and a prompt of
    /// `promptLength` tokens.
    public init(dim: Int, layers: Int, heads: Int, ffn: Int, vocab: Int = 102400, maxPositions: Int = 16384,
                codes: Int = 16384, embedDim: Int = 8, headWidth: Int? = nil, grid: Int = 24, promptLength: Int = 17,
                bos: Int = 100000, pad: Int = 100002, beginOfImage: Int = 100016) {
        let fields: [String: Any] = [
            "vocab_size": vocab, "hidden_size": dim, "intermediate_size": ffn, "num_hidden_layers": layers,
            "num_attention_heads": heads, "num_key_value_heads": heads, "max_position_embeddings": maxPositions,
            "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu",
        ]
        // LlamaTextConfig is read from config.json fields only; build it the same way
        let text = try! JSONDecoder().decode(LlamaTextConfig.self, from: try! JSONSerialization.data(withJSONObject: fields))
        config = JanusConfig(layout: .transformers, text: text, gridSide: grid, alignerDepth: 2, activation: "gelu")
        self.codes = codes
        self.embedDim = embedDim
        self.headWidth = headWidth ?? dim
        self.bos = bos
        self.pad = pad
        self.beginOfImage = beginOfImage
        precondition(promptLength >= 2, "a Janus prompt holds at least BOS and <begin_of_image>")
        var rng = RandomSource(seed: 17)
        let special = Set([bos, pad, beginOfImage])
        var middle: [Int] = []
        while middle.count < promptLength - 2 {
            let t = Int(rng.next() % UInt64(min(vocab, bos)))
            if !special.contains(t) { middle.append(t) }
        }
        promptTokens = [bos] + middle + [beginOfImage]
    }

    /// Janus-Pro-1B: hidden 2048, 24 layers, 16/16 heads (head_dim 128), FFN 5632; gen head 2048 → 2048 → 16384.
    public static var janusPro1B: JanusBenchModel { JanusBenchModel(dim: 2048, layers: 24, heads: 16, ffn: 5632) }
    /// Janus-Pro-7B: hidden 4096, 30 layers, 32/32 heads (head_dim 128), FFN 11008; gen head 4096 → 4096 → 16384.
    public static var janusPro7B: JanusBenchModel { JanusBenchModel(dim: 4096, layers: 30, heads: 32, ffn: 11008) }
}

/// What `Benchmark.run` measures: a model (random weights at real shapes), the schedules, the sampling
/// settings of the reference measurements, and the sizes of the bandwidth and matmul probes.
public struct BenchmarkPlan: Sendable {
    /// Name shown in the report ("GPT-B", "janus-pro-1b", "smoke").
    public var modelName: String
    public var model: BenchmarkModel
    /// Pixels per image side (the grid side times the decoder's downsampling).
    public var imageSize: Int
    /// Storage precision of the model's weight matrices (and KV cache).
    public var precision: WeightPrecision = .float32
    /// The decoder to time on one image; nil skips the decode.
    public var decoder: BenchmarkDecoder? = .vq(.vq16)
    public var vqName = "VQ-16"
    /// The token grid's side the decoder is timed at (nil: the image's); a smaller grid's seconds are
    /// scaled to the image's grid by the two grids' FLOP counts and reported as extrapolated.
    public var decodeGridSide: Int?
    public var schedules: [ScheduleSpec] = [.raster, .ziparReference(window: 8), .ziparReference(window: 4)]
    /// Untimed rounds before the timed ones (each round generates one image per schedule).
    public var warmup = 1
    /// Timed rounds; the median is reported.
    public var repeats = 3
    /// When set, each image runs only its first this many schedule passes and the whole image's seconds are
    /// extrapolated: the seconds through the first pass (the prefill) plus the mean of the others × the rest
    /// of the passes the schedule plans for the whole grid (not for zipar-adaptive). Later passes attend
    /// over more slots than early ones (see `timedFrom`).
    public var timedPasses: Int?
    /// With `timedPasses`: the fraction of each schedule's passes (after the lead passes) that are planned
    /// but not run after the first, before the timed ones, so the timed passes sit that far into the grid
    /// (0.5: the middle, where a wavefront is at full width and attention reads the image's mean context).
    /// Their cells hold code 0 and their KV slots zero keys and values, marked written.
    public var timedFrom = 0.0
    /// The class of a LlamaGen model (a Janus model takes its prompt from `JanusBenchModel`).
    public var classLabel = 207
    /// Images per generate call, in the same passes; with a class model and more than one, their labels
    /// cycle through `batchLabels` (seeds seed, seed + 1, …).
    public var batch = 1
    /// LlamaGen's sample.py classes.
    public var batchLabels = [207, 360, 387, 974, 88, 979, 417, 279]
    public var cfgScale: Float = 4
    public var sampling = SamplingOptions(temperature: 1, topK: 2000)
    public var seed: UInt64 = 0
    /// Seed of the random weights.
    public var weightSeed: UInt64 = 1
    /// Input counts n whose pass cost cost(n) is timed (`PassCostProbe`; cost(1) is always timed with them).
    public var passInputs: [Int] = []
    public var bandwidthBytes = 1 << 30
    public var bandwidthRepeats = 5
    public var matmulSize = 2048
    public var matmulRepeats = 5

    public init(modelName: String, gpt: GPTConfig, imageSize: Int) {
        self.modelName = modelName
        self.model = .llamaGen(gpt)
        self.imageSize = imageSize
    }

    /// A Janus plan with Janus-Pro's generation defaults (CFG 5, temperature 1, no top-k), bfloat16
    /// weights and VQ-16 at 16 pixels per token.
    public init(modelName: String, janus: JanusBenchModel) {
        self.modelName = modelName
        self.model = .janus(janus)
        self.imageSize = janus.config.gridSide * 16
        precision = .bfloat16
        cfgScale = 5
        sampling = SamplingOptions(temperature: 1, topK: 0)
        schedules = [.raster, .ziparReference(window: 8)]
    }

    /// A Lumina-mGPT plan with Lumina's generation defaults (CFG 3, temperature 1, image top-k 2000), bfloat16
    /// weights, raster against the released code's window 16, and no decode (the Chameleon VQGAN has no
    /// random-weight preset here).
    public init(modelName: String, lumina: LuminaBenchModel) {
        self.modelName = modelName
        self.model = .lumina(lumina)
        self.imageSize = lumina.imageSize
        precision = .bfloat16
        cfgScale = 3
        sampling = SamplingOptions(temperature: 1, topK: 2000)
        schedules = [.raster, .ziparReference(window: 16)]
        decoder = nil
    }

    /// An Emu3-Gen plan with Emu3's generation defaults (CFG 3, temperature 1, top-k 2048), bfloat16
    /// weights, raster against zipar at window 7 (the paper's 713 passes at 90×90), and the decoder of
    /// Emu3's vision tokenizer at its released shapes (frame 0), 8 px per token.
    public init(modelName: String, emu3: Emu3BenchModel) {
        self.modelName = modelName
        self.model = .emu3(emu3)
        let vq = Emu3VQConfig()
        self.imageSize = emu3.grid * vq.downsample
        precision = .bfloat16
        cfgScale = Emu3Model.defaults.cfgScale
        sampling = Emu3Model.defaults.options
        schedules = [.raster, .zipar(window: 7, rowStart: .placeholder)]
        decoder = .emu3(vq)
        vqName = "Emu3 VQ"
    }

    /// The LlamaGen config (nil for another family).
    public var gpt: GPTConfig? {
        if case .llamaGen(let g) = model { return g }
        return nil
    }

    /// The token grid's side.
    public var gridSide: Int { model.gridSide }

    /// A LlamaGen preset (GPT-B, GPT-L, …) at `imageSize` pixels with the VQ-16 decoder; nil for an
    /// unknown name or a size not divisible by 16.
    public static func preset(_ name: String, imageSize: Int) -> BenchmarkPlan? {
        GPTConfig.preset(name, imageSize: imageSize).map { BenchmarkPlan(modelName: name, gpt: $0, imageSize: imageSize) }
    }

    /// Names `janus(_:)` knows.
    public static let janusNames = ["janus-pro-1b", "janus-pro-7b"]
    /// Names `text(_:)` knows: the Janus ones, Lumina-mGPT-7B (768 px, 48×48 tokens, a 40-token prompt) and
    /// Emu3-Gen (720 px, 90×90 tokens, prompts of 23 and 55 tokens).
    public static let textModelNames = janusNames + ["lumina-mgpt-7b", "emu3-gen"]

    /// A text-to-image model at its real shapes by name (`textModelNames`); nil for another name.
    public static func text(_ name: String) -> BenchmarkPlan? {
        switch name.lowercased() {
        case "lumina-mgpt-7b": return BenchmarkPlan(modelName: "lumina-mgpt-7b", lumina: .lumina7B)
        case "emu3-gen": return BenchmarkPlan(modelName: "emu3-gen", emu3: .emu3Gen)
        default: return janus(name)
        }
    }

    /// Janus-Pro-1B or -7B at 384 px (24×24 tokens) with a 17-token prompt; nil for another name.
    public static func janus(_ name: String) -> BenchmarkPlan? {
        switch name.lowercased() {
        case "janus-pro-1b": return BenchmarkPlan(modelName: "janus-pro-1b", janus: .janusPro1B)
        case "janus-pro-7b": return BenchmarkPlan(modelName: "janus-pro-7b", janus: .janusPro7B)
        default: return nil
        }
    }

    /// A tiny model (dim 64, 2 layers, 16×16 grid, 512 codes, a two-level 32-channel decoder) and small
    /// probes: the whole benchmark in about a second, for CI. Its numbers say nothing about speed.
    public static var smoke: BenchmarkPlan {
        var g = GPTConfig()
        g.dim = 64
        g.n_layer = 2
        g.n_head = 4
        g.multiple_of = 32
        g.vocab_size = 512
        g.num_classes = 10
        g.block_size = 16 * 16
        var plan = BenchmarkPlan(modelName: "smoke", gpt: g, imageSize: 16 * smokeVQ.downsample)
        plan.smallParts()
        plan.classLabel = 3
        plan.batchLabels = [3, 1, 4, 5, 9, 2, 6, 0]
        return plan
    }

    /// A tiny Janus-shaped model (dim 64, 2 layers of 2 heads, 1024-token text vocabulary, 512 codes of 8
    /// dims, 12×12 grid, 9-token prompt) with the smoke decoder and probes, for CI.
    public static var janusSmoke: BenchmarkPlan {
        let j = JanusBenchModel(dim: 64, layers: 2, heads: 2, ffn: 160, vocab: 1024, maxPositions: 1024, codes: 512,
                                embedDim: 8, headWidth: 96, grid: 12, promptLength: 9, bos: 1000, pad: 1001, beginOfImage: 1002)
        var plan = BenchmarkPlan(modelName: "janus-smoke", janus: j)
        plan.imageSize = 12 * smokeVQ.downsample
        plan.smallParts()
        return plan
    }

    private static var smokeVQ: VQConfig {
        var v = VQConfig()
        v.codebook_size = 512
        v.ch = 32
        v.z_channels = 32
        v.decoder_ch_mult = [1, 1]
        v.encoder_ch_mult = [1, 1]
        return v
    }

    private mutating func smallParts() {
        decoder = .vq(BenchmarkPlan.smokeVQ)
        vqName = "VQ-smoke"
        useSmallProbes()
    }

    /// The bandwidth and matmul probes at smoke sizes (32 MiB read twice, 256² matmul twice), for runs that
    /// check the benchmark rather than the machine.
    public mutating func useSmallProbes() {
        bandwidthBytes = 32 << 20
        bandwidthRepeats = 2
        matmulSize = 256
        matmulRepeats = 2
    }
}
