/// Reads weights out of a checkpoint by name with strict shape checks, packs matrices in a precision
/// straight from the mapped tensors (16 rows at a time on every core, never a float32 copy of a whole
/// matrix), and drops the source pages as they are packed (so a load keeps one resident copy).
struct WeightLoader {
    let checkpoint: Checkpoint
    let precision: WeightPrecision

    /// The entry `name`, checked to have `shape` (nil entries of `shape` accept any size there).
    func entry(_ name: String, _ shape: [Int?]) throws -> TensorEntry {
        let e = try checkpoint.entry(name)
        guard e.shape.count == shape.count, zip(e.shape, shape).allSatisfy({ $1 == nil || $0 == $1 }), e.shape.allSatisfy({ $0 > 0 }) else {
            let expected = shape.map { $0.map(String.init) ?? "*" }.joined(separator: ", ")
            throw CheckpointError(checkpoint.path, "weight \(quoted(name)) has shape \(e.shape), expected [\(expected)] for this config")
        }
        return e
    }

    /// A float32 vector of `count` values.
    func vector(_ name: String, _ count: Int?) throws -> [Float] {
        let e = try entry(name, [count])
        defer { e.releasePages() }
        return e.floats()
    }

    /// Matrices with the same columns stacked row-wise into one packed matrix (q | k | v, gate | up).
    func stacked(_ parts: [(name: String, rows: Int?)], cols: Int?) throws -> WeightMatrix {
        try stacked(parts, cols: cols, precision: precision)
    }

    private func stacked(_ parts: [(name: String, rows: Int?)], cols: Int?, precision: WeightPrecision) throws -> WeightMatrix {
        let entries = try parts.map { try entry($0.name, [$0.rows, cols]) }
        defer { entries.forEach { $0.releasePages() } }
        let width = entries[0].shape[1]
        guard entries.allSatisfy({ $0.shape[1] == width }) else {
            throw CheckpointError(checkpoint.path, "weights \(parts.map(\.name)) differ in their number of columns")
        }
        let starts = entries.reduce(into: [0]) { $0.append($0.last! + $1.shape[0]) }
        return WeightMatrix(rows: starts.last!, cols: width, precision: precision) { range, out in
            var r = range.lowerBound
            while r < range.upperBound {
                let e = starts.lastIndex { $0 <= r }!, local = r - starts[e], n = min(range.upperBound, starts[e + 1]) - r
                entries[e].copyRows(local..<local + n, to: out + (r - range.lowerBound) * width)
                entries[e].releasePages(rows: local..<local + n)
                r += n
            }
        }
    }

    /// A table read a few rows at a time (an embedding), kept in `precision.gathered` (int8 → bfloat16).
    func embedding(_ name: String, rows: Int?, cols: Int?) throws -> WeightMatrix {
        try stacked([(name, rows)], cols: cols, precision: precision.gathered)
    }

    /// One [rows, cols] matrix.
    func matrix(_ name: String, rows: Int?, cols: Int?) throws -> WeightMatrix {
        try stacked([(name, rows)], cols: cols)
    }

    /// An nn.Linear `prefix.weight` [outputs, inputs] with `prefix.bias` [outputs].
    func linear(_ prefix: String, inputs: Int?, outputs: Int?) throws -> Linear {
        let weight = try matrix(prefix + ".weight", rows: outputs, cols: inputs)
        return Linear(weight: weight, bias: try vector(prefix + ".bias", weight.rows))
    }
}
