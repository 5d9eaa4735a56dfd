import CKernels

/// Writes rows `range` of a matrix row-major as float32 into the buffer (range.count × cols floats).
/// Packing calls it from every pool thread at once, each time for a different panel's rows.
typealias RowReader = (_ range: Range<Int>, _ into: UnsafeMutablePointer<Float>) -> Void

extension WeightMatrix {
    /// Packs row-major `values` [rows, cols].
    public init(rows: Int, cols: Int, _ values: [Float], precision: WeightPrecision = .float32) {
        precondition(values.count == rows * cols)
        self = values.withUnsafeBufferPointer { v in
            WeightMatrix(rows: rows, cols: cols, precision: precision) { range, out in
                out.update(from: v.baseAddress! + range.lowerBound * cols, count: range.count * cols)
            }
        }
    }

    /// Packs a matrix whose rows `read` supplies one panel (16 rows) at a time, on every core: no copy of
    /// the whole matrix is made besides the packed one (each thread holds 16 rows of float32 scratch).
    init(rows: Int, cols: Int, precision: WeightPrecision, reading read: RowReader) {
        self.rows = rows
        self.cols = cols
        let p = WeightMatrix.panel, k = Int64(cols)
        switch precision {
        case .float32:
            storage = .float32(WeightMatrix.packed(rows, cols, read) { _, s, out in zipar_pack_f32(s, k, out) })
        case .bfloat16:
            storage = .bfloat16(WeightMatrix.packed(rows, cols, read) { _, s, out in zipar_pack_bf16(s, k, out) })
        case .int8:
            var scales = [Float](repeating: 0, count: (rows + p - 1) / p * p)
            let q = scales.withUnsafeMutableBufferPointer { scales in
                WeightMatrix.packed(rows, cols, read) { panel, s, out in zipar_pack_int8(s, k, out, scales.baseAddress! + panel * p) }
            }
            storage = .int8(q, scales: scales)
        }
    }

    /// The packed panels of a [rows, cols] matrix: `fill(panel, rows, out)` packs one panel from its 16
    /// rows row-major (zero past `rows`) into out (16 · cols elements); panels are split over the pool.
    private static func packed<T>(_ rows: Int, _ cols: Int, _ read: RowReader,
                                  _ fill: (Int, UnsafePointer<Float>, UnsafeMutablePointer<T>) -> Void) -> [T] {
        let p = WeightMatrix.panel, panels = (rows + p - 1) / p
        return [T](unsafeUninitializedCapacity: panels * p * cols) { buffer, initialized in
            let base = buffer.baseAddress
            parallelRanges(panels) { p0, p1 in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: p * cols)
                defer { scratch.deallocate() }
                for panel in p0..<p1 {
                    let r0 = panel * p, n = min(p, rows - r0)
                    read(r0..<r0 + n, scratch)
                    if n < p { (scratch + n * cols).initialize(repeating: 0, count: (p - n) * cols) }
                    fill(panel, scratch, base! + panel * p * cols)
                }
            }
            initialized = panels * p * cols
        }
    }
}
