/// The glyph classifier's config.json (tools/demo/export.py), with the Python field names.
public struct ClassifierConfig: Codable, Equatable, Sendable {
    /// "glyph-cnn": the only architecture known.
    public var arch: String
    public var image_size: Int
    public var in_channels: Int
    /// Output channels of the 3×3 convolutions, each followed by ReLU and a 2×2 max-pool.
    public var channels: [Int]
    /// Width of fc1, whose ReLU outputs are the features of the Fréchet distance.
    public var fc_hidden: Int
    public var num_classes: Int
    /// Class k is labels[k] (the GPT's labels).
    public var labels: String?
    /// Accuracy on the held-out real glyphs, measured when the classifier was exported.
    public var heldout_accuracy: Double?
    /// The Fréchet-distance reference statistics beside the weights, and what they were taken from.
    public var fd_reference: FDReference?

    /// config.json's "fd_reference": a safetensors file of `mu` [F] and `sigma` [F, F] in the same folder.
    public struct FDReference: Codable, Equatable, Sendable {
        public var file: String
        /// How many real images the statistics were taken from, and from which split.
        public var images: Int?
        public var split: String?
    }

    /// The reference statistics' file name in the classifier folder (fd_reference.safetensors when not given).
    public var referenceFile: String { fd_reference?.file ?? "fd_reference.safetensors" }

    /// Side of the last feature map (the image side halved once per convolution).
    public var finalSide: Int { channels.reduce(image_size) { side, _ in side / 2 } }

    /// Checks the numbers describe a network this engine builds; errors name `file` and the field.
    public func validate(file: String) throws {
        func bad(_ message: String) -> CheckpointError { CheckpointError(file, message) }
        guard arch == "glyph-cnn" else { throw bad("arch '\(arch)' is not supported (only glyph-cnn)") }
        guard in_channels == 3 else { throw bad("in_channels \(in_channels): only RGB (3) images are classified") }
        guard !channels.isEmpty, channels.allSatisfy({ $0 > 0 }) else { throw bad("channels must be a non-empty list of positive widths") }
        guard image_size > 0, image_size % (1 << channels.count) == 0 else {
            throw bad("image_size \(image_size) must be divisible by 2^\(channels.count) (one max-pool per convolution)")
        }
        guard fc_hidden > 0, num_classes > 0 else { throw bad("fc_hidden and num_classes must be positive") }
        if let labels, labels.count != num_classes { throw bad("labels has \(labels.count) characters for \(num_classes) classes") }
        guard !referenceFile.isEmpty, !referenceFile.contains("/") else {
            throw bad("fd_reference.file '\(referenceFile)' must be a file name in the classifier folder")
        }
    }
}
