/// How a family turns decoder output in [−1, 1] into bytes.
public enum PixelMapping: Sendable {
    /// torchvision's `save_image(normalize=True, value_range=(-1, 1))` (LlamaGen): rounds.
    case saveImage
    /// `np.clip((x + 1) / 2 * 255, 0, 255)` assigned to uint8 (Janus, Chameleon): truncates.
    case clipTruncate

    /// One value as the family converts it, in float32 and in its order. NaN gives 0.
    public func byte(_ x: Float) -> UInt8 {
        guard !x.isNaN else { return 0 }
        switch self {
        case .saveImage:
            let unit = (min(max(x, -1), 1) - (-1)) / 2
            return UInt8(min(max(unit * 255 + 0.5, 0), 255))
        case .clipTruncate:
            return UInt8(min(max((x + 1) / 2 * 255, 0), 255))
        }
    }
}

/// The VQ decoder's output: a channel-first float image, nominally in [−1, 1] but not clamped.
public struct VQImage: Equatable, Sendable {
    /// Colour channels (3: R, G, B).
    public let channels: Int
    public let height: Int
    public let width: Int
    /// [channels, height, width], row-major.
    public var data: [Float]

    public init(channels: Int, height: Int, width: Int, data: [Float]) {
        self.channels = channels
        self.height = height
        self.width = width
        self.data = data
    }

    /// The 8-bit image under `mapping` (default: what torchvision's `save_image(x, value_range=(-1, 1),
    /// normalize=True)` writes: clamp to [−1, 1], subtract −1, divide by 2, multiply by 255, add 0.5,
    /// clamp to [0, 255], truncate).
    public func rgbImage(mapping: PixelMapping = .saveImage) -> RGBImage {
        let plane = height * width
        var pixels = [UInt8](repeating: 0, count: plane * 3)
        for c in 0..<min(channels, 3) {
            for i in 0..<plane { pixels[i * 3 + c] = mapping.byte(data[c * plane + i]) }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
