/// Plain next-token decoding: one token per pass, H·W passes (prefill included).
public struct RasterSchedule: DecodingSchedule {
    public let name = "raster"
    let layout: SequenceLayout
    let cfgInterval: Int

    public init(layout: SequenceLayout, cfgInterval: Int = -1) {
        self.layout = layout
        self.cfgInterval = cfgInterval
    }

    public mutating func nextPass(_ grid: TokenGrid) -> DecodingPass? {
        guard let k = grid.cells.firstIndex(where: { $0 == nil }) else { return nil }
        return k == 0 ? layout.prefill() : layout.rasterStep(cell: k, grid: grid, cfgInterval: cfgInterval)
    }

    public mutating func passDidFinish(_ pass: DecodingPass, grid: TokenGrid) {}
}
