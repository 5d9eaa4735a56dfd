import ZipAR

/// One image to generate: what, with which schedule, and how many partial images to send on the way.
public struct ImageJob: Sendable {
    public var options: GenerationOptions
    public var schedule: ScheduleSpec
    /// Partial images (0–3) sent as the grid fills, evenly spaced in tokens.
    public var partialImages: Int
    /// Seconds from submission within which the image must finish, waiting included; past it the image
    /// leaves the queue or the batch at the next pass boundary with a 504 `deadline_exceeded`. nil: no limit.
    public var timeout: Double?

    public init(options: GenerationOptions, schedule: ScheduleSpec, partialImages: Int = 0, timeout: Double? = nil) {
        self.options = options
        self.schedule = schedule
        self.partialImages = partialImages
        self.timeout = timeout
    }
}

/// What the engine reports for one image.
public enum ImageEvent: Sendable {
    /// A pass of this image finished.
    case progress(ImageProgress)
    /// A partial image (PNG): the tokens so far decoded, cells not yet generated grey.
    case partial(index: Int, png: [UInt8])
    /// The finished image.
    case completed(GeneratedImage)
}

/// Where an image stands after one of its passes.
public struct ImageProgress: Sendable, Equatable {
    /// Passes of this image so far.
    public var pass: Int
    /// Cells of the grid decoded so far, and in all.
    public var tokens: Int, totalTokens: Int
    /// The cells (raster indices) this pass decoded: the wavefront.
    public var cells: [Int]
}

/// A finished image: its PNG and how it was made.
public struct GeneratedImage: Sendable {
    public var png: [UInt8]
    public var seed: UInt64
    public var stats: GenerationStats
    /// Images that shared this image's passes (itself included).
    public var batchSize: Int
}

/// Why the engine refused work.
public enum EngineError: Error, Equatable {
    /// The queue holds `--max-queue` images; retry after about this many seconds.
    case queueFull(retryAfter: Double)
    /// The server is shutting down.
    case draining
}
