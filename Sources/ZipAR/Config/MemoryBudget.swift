import Foundation

/// The memory a model config asks for, counted with overflow-safe arithmetic and checked against the
/// machine before anything that size is allocated: a config that could not fit is a one-line error
/// naming the size, not an out-of-memory kill halfway through loading.
enum MemoryBudget {
    /// Σ Π terms, or nil when it does not fit in an Int.
    static func sum(ofProducts terms: [[Int]]) -> Int? {
        var total = 0
        for term in terms {
            var product = 1
            for factor in term {
                let (p, overflow) = product.multipliedReportingOverflow(by: factor)
                guard !overflow, p >= 0 else { return nil }
                product = p
            }
            let (s, overflow) = total.addingReportingOverflow(product)
            guard !overflow else { return nil }
            total = s
        }
        return total
    }

    /// Throws naming `file` when a decoder stack of `shape` with `rows` embedding/output rows of width dim,
    /// and a KV cache of `positions` positions (with and without guidance) would not fit in physical
    /// memory even at the smallest precision (1-byte weights, a 2-byte cache).
    static func check(_ shape: TransformerShape, rows: Int, positions: Int, file: String) throws {
        let kvWidth = shape.kvHeads.multipliedReportingOverflow(by: shape.headDim)
        let layer: [[Int]] = [
            [shape.dim, shape.heads, shape.headDim], [2, shape.dim, kvWidth.partialValue],
            [shape.heads, shape.headDim, shape.dim], [3, shape.dim, shape.ffnHidden], [2, shape.dim],
        ]
        let weights = sum(ofProducts: layer.map { $0 + [shape.layers] } + [[rows, shape.dim]])
        let cache = sum(ofProducts: [[2, 2, 2, shape.layers, positions, kvWidth.partialValue]])
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        guard !kvWidth.overflow, let weights, let cache, let total = sum(ofProducts: [[weights], [cache]]), total <= physical else {
            throw CheckpointError(file, "this config needs at least \(gib(weights)) GiB of weights and a \(gib(cache)) GiB KV cache, more than this machine's \(gib(physical)) GiB of memory")
        }
    }

    /// Bytes as GiB with one decimal ("more than 8 exabytes" when beyond an Int).
    static func gib(_ bytes: Int?) -> String {
        guard let bytes else { return "over 8589934592" }
        return String(format: "%.1f", Double(bytes) / Double(1 << 30))
    }
}
