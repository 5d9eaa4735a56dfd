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

    /// The 8-bit image torchvision's `save_image(x, value_range=(-1, 1), normalize=True)` writes.
    public func rgbImage() -> RGBImage {
        let plane = height * width
        var pixels = [UInt8](repeating: 0, count: plane * 3)
        for c in 0..<min(channels, 3) {
            for i in 0..<plane { pixels[i * 3 + c] = VQImage.byte(data[c * plane + i]) }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// One value as save_image converts it, in float32 and in its order: clamp to [−1, 1], subtract −1,
    /// divide by 2, multiply by 255, add 0.5, clamp to [0, 255], truncate. NaN gives 0.
    public static func byte(_ x: Float) -> UInt8 {
        guard !x.isNaN else { return 0 }
        let unit = (min(max(x, -1), 1) - (-1)) / 2
        let scaled = min(max(unit * 255 + 0.5, 0), 255)
        return UInt8(scaled)
    }
}
