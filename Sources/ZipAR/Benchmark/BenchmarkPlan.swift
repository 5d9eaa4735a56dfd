/// What `Benchmark.run` measures: a GPT (random weights at real shapes), the schedules, the sampling
/// settings of the reference measurements, and the sizes of the bandwidth and matmul probes.
public struct BenchmarkPlan: Sendable {
    /// Name shown in the report ("GPT-B", "smoke").
    public var modelName: String
    public var gpt: GPTConfig
    /// Pixels per image side (the grid side times the decoder's downsampling).
    public var imageSize: Int
    /// Storage precision of the GPT's weight matrices.
    public var precision: WeightPrecision = .float32
    /// The VQ decoder to time on one image of the grid's size; nil skips the decode.
    public var vq: VQConfig? = .vq16
    public var vqName = "VQ-16"
    public var schedules: [ScheduleSpec] = [.raster, .ziparReference(window: 8), .ziparReference(window: 4)]
    /// Untimed rounds before the timed ones (each round generates one image per schedule).
    public var warmup = 1
    /// Timed rounds; the median is reported.
    public var repeats = 3
    public var classLabel = 207
    public var cfgScale: Float = 4
    public var sampling = SamplingOptions(temperature: 1, topK: 2000)
    public var seed: UInt64 = 0
    /// Seed of the random weights.
    public var weightSeed: UInt64 = 1
    public var bandwidthBytes = 1 << 30
    public var bandwidthRepeats = 5
    public var matmulSize = 2048
    public var matmulRepeats = 5

    public init(modelName: String, gpt: GPTConfig, imageSize: Int) {
        self.modelName = modelName
        self.gpt = gpt
        self.imageSize = imageSize
    }

    /// A LlamaGen preset (GPT-B, GPT-L, …) at `imageSize` pixels with the VQ-16 decoder; nil for an
    /// unknown name or a size not divisible by 16.
    public static func preset(_ name: String, imageSize: Int) -> BenchmarkPlan? {
        GPTConfig.preset(name, imageSize: imageSize).map { BenchmarkPlan(modelName: name, gpt: $0, imageSize: imageSize) }
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
        var v = VQConfig()
        v.codebook_size = 512
        v.ch = 32
        v.z_channels = 32
        v.decoder_ch_mult = [1, 1]
        v.encoder_ch_mult = [1, 1]
        var plan = BenchmarkPlan(modelName: "smoke", gpt: g, imageSize: 16 * v.downsample)
        plan.vq = v
        plan.vqName = "VQ-smoke"
        plan.classLabel = 3
        plan.bandwidthBytes = 32 << 20
        plan.bandwidthRepeats = 2
        plan.matmulSize = 256
        plan.matmulRepeats = 2
        return plan
    }
}
