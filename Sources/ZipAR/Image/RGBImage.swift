/// An 8-bit RGB image: `pixels` holds height × width × 3 bytes, rows top to bottom, each pixel R, G, B.
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}
