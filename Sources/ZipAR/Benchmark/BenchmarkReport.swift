/// Everything one benchmark run measured. `json()` writes it with snake_case keys; `table()` for people.
public struct BenchmarkReport: Codable, Sendable {
    /// Start of the run, ISO 8601 (UTC).
    public var date: String
    public var machine: MachineInfo
    /// 1-minute load average at the start and end (nil where unreadable): well above the benchmark's
    /// own load means other work competed for the cores and the numbers are disturbed.
    public var loadAverageStart: Double?
    public var loadAverageEnd: Double?
    public var model: ModelReport
    public var settings: SettingsReport
    /// Read bandwidth with one thread per core (the floor's reference) and with one thread.
    public var bandwidth: BandwidthProbe.Result
    public var bandwidthSingleThread: BandwidthProbe.Result
    public var matmul: MatmulProbe.Result
    /// Milliseconds a pass would take if it did nothing but read `model.bytesReadPerPass` at the best
    /// all-core bandwidth.
    public var floorMsPerPass: Double
    public var schedules: [ScheduleReport]
    public var vqDecode: VQDecodeReport?
    /// Peak resident memory (getrusage ru_maxrss) of the model work, taken before the probes allocate.
    public var peakResidentMebibytes: Double
}

/// The GPT that was timed.
public struct ModelReport: Codable, Sendable {
    public var name: String
    public var dim: Int
    public var layers: Int
    public var heads: Int
    public var vocabSize: Int
    public var gridHeight: Int
    public var gridWidth: Int
    public var imageSize: Int
    /// "float32" or "bfloat16" (the matrices; norms are float32).
    public var weightPrecision: String
    /// Weights in total, embeddings included.
    public var parameters: Int
    /// Bytes each pass reads in full: layer matrices, output head and norms (embedding rows not counted).
    public var bytesReadPerPass: Int
}

/// The sampling and repetition settings.
public struct SettingsReport: Codable, Sendable {
    public var classLabel: Int
    public var cfgScale: Float
    public var topK: Int
    public var temperature: Float
    public var seed: UInt64
    public var warmup: Int
    public var repeats: Int
}

/// One schedule's timings (each image one full `ImageGenerator.generate` call).
public struct ScheduleReport: Codable, Sendable {
    public var name: String
    /// Model passes per image, prefill included (zipar-adaptive: of the last timed image).
    public var passes: Int
    /// Seconds of each timed image, in run order.
    public var secondsAll: [Double]
    public var secondsMedian: Double
    /// The fastest timed image.
    public var secondsBest: Double
    /// (max − min) / median of the timed images.
    public var spread: Double
    /// secondsMedian / passes.
    public var msPerPass: Double
    /// Sampled tokens per pass (grid cells / passes).
    public var tokensPerPass: Double
    /// Inputs fed per pass (sampled plus discarded ones).
    public var inputsPerPass: Double
    /// bytesReadPerPass / msPerPass, in GB/s.
    public var achievedGigabytesPerSecond: Double
    /// msPerPass / floorMsPerPass.
    public var ratioToFloor: Double
    /// secondsMedian / raster's secondsMedian in the same run (nil when raster was not run).
    public var ratioToRaster: Double?
    /// zipar-adaptive: drafts proposed, accepted and rejected in the last timed image (with random weights
    /// the acceptance says nothing about a trained model; the passes it leads to are what is timed).
    public var drafts: Int
    public var accepted: Int
    public var rejected: Int
}

/// The VQ decoder's time for one image of the grid's size.
public struct VQDecodeReport: Codable, Sendable {
    public var name: String
    public var gridSize: Int
    public var imageSize: Int
    public var secondsAll: [Double]
    public var secondsMedian: Double
    public var flops: VQDecodeFlops
    /// flops.total / secondsMedian, in GFLOP/s.
    public var achievedGflops: Double
    /// achievedGflops / the matmul probe's best.
    public var fractionOfMatmulPeak: Double
}
