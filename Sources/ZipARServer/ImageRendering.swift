import ZipAR

/// Turns token grids into PNGs with the model's decoder.
enum ImageRendering {
    /// The finished image's PNG, exactly as `zipar generate` writes it for one label.
    static func png(_ result: GenerationResult, model: ServedModel) throws -> [UInt8] {
        let image = try model.loaded.decoder.decode(tokens: result.tokens, height: result.height, width: result.width)
            .rgbImage(mapping: model.loaded.pixelMapping)
        return try encodePNG(image)
    }

    /// A partial image: the grid decoded with the cells not yet generated as token 0, then those cells
    /// painted mid-grey, so the wavefront shows.
    static func partialPNG(_ grid: TokenGrid, model: ServedModel) throws -> [UInt8] {
        var image = try model.loaded.decoder.decode(tokens: grid.cells.map { $0 ?? 0 }, height: grid.height, width: grid.width)
            .rgbImage(mapping: model.loaded.pixelMapping)
        let side = model.loaded.decoder.downsample
        for cell in grid.cells.indices where grid.cells[cell] == nil {
            let row = cell / grid.width, column = cell % grid.width
            for y in row * side..<min(image.height, (row + 1) * side) {
                for x in column * side..<min(image.width, (column + 1) * side) {
                    let p = (y * image.width + x) * 3
                    image.pixels[p] = 128; image.pixels[p + 1] = 128; image.pixels[p + 2] = 128
                }
            }
        }
        return try encodePNG(image)
    }
}
