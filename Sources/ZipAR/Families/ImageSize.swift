/// An image size in pixels, width × height, as `--image-size` gives it (one number: square). Families
/// that draw square images only take a square one (`squareSide`).
public struct ImageSize: Equatable, Sendable, CustomStringConvertible {
    public var width: Int, height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public init(square side: Int) { self.init(width: side, height: side) }

    /// "N" (N × N) or "WxH" with whole numbers; nil for anything else (the range is the caller's to check).
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let w = Int(parts[0]), let h = Int(parts.last!) else { return nil }
        self.init(width: w, height: h)
    }

    /// "W×H", or "N" when square.
    public var description: String { width == height ? "\(width)" : "\(width)x\(height)" }

    /// The side of a square size; an error naming `folder` and `family` otherwise.
    public func squareSide(folder: String, family: String) throws -> Int {
        guard width == height else { throw CheckpointError(folder, "image size \(self) (--image-size): \(family) draws square images, give one number") }
        return width
    }
}
