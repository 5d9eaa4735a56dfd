extension RGBImage {
    /// `images` tiled row by row, `columns` per row, top-left aligned in cells as wide as the widest image
    /// of their column and as tall as the tallest of their row, with `gap` white pixels between cells and
    /// white wherever no image is.
    public static func grid(_ images: [RGBImage], columns: Int, gap: Int) -> RGBImage {
        precondition(columns > 0 && gap >= 0, "a grid needs at least one column")
        let cols = min(columns, max(images.count, 1)), rows = (images.count + cols - 1) / cols
        var colWidth = [Int](repeating: 0, count: cols), rowHeight = [Int](repeating: 0, count: rows)
        for (k, image) in images.enumerated() {
            colWidth[k % cols] = max(colWidth[k % cols], image.width)
            rowHeight[k / cols] = max(rowHeight[k / cols], image.height)
        }
        func starts(_ sizes: [Int]) -> [Int] { sizes.indices.map { i in sizes[..<i].reduce(0, +) + i * gap } }
        let x0s = starts(colWidth), y0s = starts(rowHeight)
        let width = colWidth.reduce(0, +) + (cols - 1) * gap, height = max(rowHeight.reduce(0, +) + (rows - 1) * gap, 0)
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        for (k, image) in images.enumerated() {
            let x0 = x0s[k % cols], y0 = y0s[k / cols]
            for y in 0..<image.height {
                let to = ((y0 + y) * width + x0) * 3, from = y * image.width * 3
                pixels.replaceSubrange(to..<to + image.width * 3, with: image.pixels[from..<from + image.width * 3])
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// `left` and `right` next to each other, top-aligned, `gap` white columns between them; the shorter
    /// one is padded with white below.
    public static func sideBySide(_ left: RGBImage, _ right: RGBImage, gap: Int) -> RGBImage {
        grid([left, right], columns: 2, gap: gap)
    }
}
