/// Reads weights out of a checkpoint by name with strict shape checks, packs matrices in a precision, and
/// drops each source tensor's mapped pages once converted (so a load keeps one resident copy).
struct WeightLoader {
    let checkpoint: Checkpoint
    let precision: WeightPrecision

    /// The entry `name`, checked to have `shape` (nil entries of `shape` accept any size there).
    func entry(_ name: String, _ shape: [Int?]) throws -> TensorEntry {
        let e = try checkpoint.entry(name)
        guard e.shape.count == shape.count, zip(e.shape, shape).allSatisfy({ $1 == nil || $0 == $1 }), e.shape.allSatisfy({ $0 > 0 }) else {
            let expected = shape.map { $0.map(String.init) ?? "*" }.joined(separator: ", ")
            throw CheckpointError(checkpoint.path, "weight '\(name)' has shape \(e.shape), expected [\(expected)] for this config")
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
        let entries = try parts.map { try entry($0.name, [$0.rows, cols]) }
        defer { entries.forEach { $0.releasePages() } }
        let rows = entries.reduce(0) { $0 + $1.shape[0] }, width = entries[0].shape[1]
        guard entries.allSatisfy({ $0.shape[1] == width }) else {
            throw CheckpointError(checkpoint.path, "weights \(parts.map(\.name)) differ in their number of columns")
        }
        let values = entries.count == 1 ? entries[0].floats() : entries.flatMap { $0.floats() }
        return WeightMatrix(rows: rows, cols: width, values, precision: precision)
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
