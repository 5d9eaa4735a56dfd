extension RGBImage {
    /// The decoding order as a picture: the `gridHeight`×`gridWidth` token grid scaled to `width`×`height`
    /// pixels, each token a block coloured by the pass that settled it (`cellPass`, raster order, as
    /// `GenerationStats.cell_pass` holds it) on a ramp from the first pass (dark violet) to the last
    /// (yellow), so the wavefront of a schedule shows as diagonal bands.
    public static func passOrder(cellPass: [Int], gridHeight: Int, gridWidth: Int, width: Int, height: Int) -> RGBImage {
        precondition(cellPass.count == gridHeight * gridWidth, "one pass per cell")
        let first = cellPass.min() ?? 0, span = max((cellPass.max() ?? 0) - first, 1)
        let colours = cellPass.map { passColour(Float($0 - first) / Float(span)) }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let row = y * gridHeight / height
            for x in 0..<width {
                let colour = colours[row * gridWidth + x * gridWidth / width]
                let p = (y * width + x) * 3
                pixels[p] = colour.0
                pixels[p + 1] = colour.1
                pixels[p + 2] = colour.2
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// A point of the ramp at t ∈ [0, 1] (viridis, linear between five stops).
    private static func passColour(_ t: Float) -> (UInt8, UInt8, UInt8) {
        let stops: [(Float, Float, Float)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        let x = min(max(t, 0), 1) * Float(stops.count - 1)
        let i = min(Int(x), stops.count - 2), f = x - Float(i)
        let (a, b) = (stops[i], stops[i + 1])
        func mix(_ u: Float, _ v: Float) -> UInt8 { UInt8((u + (v - u) * f).rounded()) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}
