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
    /// The bandwidth floor: milliseconds a pass would take if it did nothing but read
    /// `model.bytesReadPerPass` at the best all-core bandwidth. (Each schedule also has a FLOP floor.)
    public var floorMsPerPass: Double
    public var schedules: [ScheduleReport]
    public var vqDecode: VQDecodeReport?
    /// cost(n) of one pass by its input count (`BenchmarkPlan.passInputs`; empty when none was asked for).
    public var passCosts: [PassCostProbe.Result] = []
    /// Peak resident memory (getrusage ru_maxrss) of the model work (images and decodes), taken before
    /// the probes allocate.
    public var peakResidentMebibytes: Double
    /// The same after the images, before the VQ decoder is built: what generation holds.
    public var peakResidentGenerationMebibytes: Double
    /// peakResidentGenerationMebibytes / (model.residentWeightBytes + model.kvCacheBytes).
    public var peakResidentToNeeded: Double
}

/// The GPT that was timed.
public struct ModelReport: Codable, Sendable {
    public var name: String
    /// "llamagen", "janus", "lumina" or "emu3".
    public var family: String
    public var dim: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var ffnHidden: Int
    /// Image-token vocabulary (the logits' width).
    public var vocabSize: Int
    /// Condition tokens before the grid (class tokens, or the prompt).
    public var conditionTokens: Int
    public var gridHeight: Int
    public var gridWidth: Int
    public var imageSize: Int
    /// "float32" or "bfloat16" (the matrices; norms are float32).
    public var weightPrecision: String
    /// Weights in total, embeddings included (Janus: the text embedding too, though the benchmark computes
    /// its rows instead of storing them).
    public var parameters: Int
    /// Elements of the matrices every pass streams (layers, head; Janus: and the aligner): the FLOP floor
    /// counts 2 FLOPs per element per row.
    public var streamedParameters: Int
    /// Bytes each pass reads in full: layer matrices, output head and norms (embedding rows not counted).
    public var bytesReadPerPass: Int
    /// Bytes of the weights held in memory: packed matrices, norms, biases, stored embeddings (not Janus's
    /// text embedding, whose prompt rows are read from the checkpoint, here computed).
    public var residentWeightBytes: Int
    /// Bytes of one image's KV cache: batch rows (2 with CFG) × layers × K and V × kv heads × slots × head_dim.
    public var kvCacheBytes: Int
    /// Seconds to build the random weights.
    public var loadSeconds: Double
}

/// The sampling and repetition settings.
public struct SettingsReport: Codable, Sendable {
    /// What the images are conditioned on ("class 207", "prompt of 17 tokens").
    public var condition: String
    /// Images per generate call (sharing passes).
    public var batch: Int
    /// The plan's class label (used by class-conditioned models only).
    public var classLabel: Int
    public var cfgScale: Float
    public var topK: Int
    public var temperature: Float
    public var seed: UInt64
    public var warmup: Int
    public var repeats: Int
    /// Schedule passes timed per image when the whole image's seconds are extrapolated; nil: whole images.
    public var timedPasses: Int?
    /// Fraction of each schedule's passes planned but not run before the timed ones (`BenchmarkPlan.timedFrom`).
    public var timedFrom: Double
}

/// One schedule's timings (each image one full `ImageGenerator.generate` call).
public struct ScheduleReport: Codable, Sendable {
    public var name: String
    /// Model passes per generate call, prefill included (the batch's longest image; zipar-adaptive: of the
    /// last timed round).
    public var passes: Int
    /// Seconds per image of each timed round (the batch's seconds over its images), in run order.
    public var secondsAll: [Double]
    public var secondsMedian: Double
    /// The fastest timed image.
    public var secondsBest: Double
    /// (max − min) / median of the timed images.
    public var spread: Double
    /// Seconds of a batch pass: secondsMedian · batch / passes.
    public var msPerPass: Double
    /// Sampled tokens per pass (grid cells / passes).
    public var tokensPerPass: Double
    /// Inputs fed per pass (sampled plus discarded ones), averaged over the passes.
    public var inputsPerPass: Double
    /// Rows every streamed matrix multiplies per pass: inputsPerPass × batch rows (2 with CFG).
    public var rowsPerPass: Double
    /// bytesReadPerPass / msPerPass, in GB/s.
    public var achievedGigabytesPerSecond: Double
    /// 2 · model.streamedParameters · rowsPerPass at the sgemm probe's best rate, in ms.
    public var flopFloorMsPerPass: Double
    /// Which floor is higher: "bandwidth" or "flops".
    public var floorBinds: String
    /// msPerPass / max(floorMsPerPass, flopFloorMsPerPass).
    public var ratioToFloor: Double
    /// msPerPass / floorMsPerPass (the bandwidth floor alone).
    public var ratioToBandwidthFloor: Double
    /// secondsMedian / raster's secondsMedian in the same run (nil when raster was not run).
    public var ratioToRaster: Double?
    /// Extrapolated images: the median milliseconds of the timed passes after the first (the prefill), the
    /// per-pass figure the whole image is extrapolated from; nil for whole images.
    public var timedMsPerPass: Double?
    /// Extrapolated images: inputs per pass in those timed passes (`inputsPerPass` is the whole grid's).
    public var timedInputsPerPass: Double?
    /// Extrapolated images: the passes planned but not run between the first and the timed ones.
    public var skippedPasses: Int?
    /// zipar-adaptive: drafts proposed, accepted and rejected in the last timed image (with random weights
    /// the acceptance says nothing about a trained model; the passes it leads to are what is timed).
    public var drafts: Int
    public var accepted: Int
    public var rejected: Int
    /// Images finished per second (the batch's images over its median seconds).
    public var imagesPerSecond: Double
}

/// The decoder's time for one image of `gridSize`² tokens (the benchmark's grid, or a smaller one).
public struct VQDecodeReport: Codable, Sendable {
    public var name: String
    /// Tokens per side of the grid decoded.
    public var gridSize: Int
    /// Pixels per side of the image decoded.
    public var imageSize: Int
    public var secondsAll: [Double]
    public var secondsMedian: Double
    public var flops: VQDecodeFlops
    /// flops.total / secondsMedian, in GFLOP/s.
    public var achievedGflops: Double
    /// achievedGflops / the matmul probe's best.
    public var fractionOfMatmulPeak: Double
    /// A smaller grid than the benchmark's: the FLOPs of the benchmark's grid, nil otherwise.
    public var imageFlops: VQDecodeFlops?
    /// secondsMedian × imageFlops.total / flops.total: the benchmark grid's decode, extrapolated.
    public var extrapolatedImageSeconds: Double?
}
