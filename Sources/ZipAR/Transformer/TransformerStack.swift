import Foundation

/// The decoder layers every family shares (llama2.c's forward): per layer
/// x += wo · attn(rope(qknorm(wqkv · rmsnorm(x)))) (qknorm: Chameleon's, where given), then x += w2 · (silu(w1 · rmsnorm(x)) ⊙ w3 · rmsnorm(x)),
/// over the rows of one pass (batch row b, input i at row b·n + i). Every input writes its key and value
/// into its position's cache slot before any attention (a static cache), then attends by `visibility`.
/// It holds no scheduling state; its work buffers are reused from pass to pass.
public final class TransformerStack {
    public let shape: TransformerShape
    public let layers: [DecoderLayerWeights]
    /// Final RMSNorm weight [dim].
    public let norm: [Float]
    public let rotary: Rotary
    /// Per layer, the query/key LayerNorm applied before the rotary embedding (Chameleon); nil for none.
    public let qkNorms: [QKNormWeights]?
    private let scratch = StackScratch()

    public init(shape: TransformerShape, layers: [DecoderLayerWeights], norm: [Float], rotary: Rotary,
                qkNorms: [QKNormWeights]? = nil) {
        precondition(layers.count == shape.layers && norm.count == shape.dim && (qkNorms?.count ?? shape.layers) == shape.layers)
        self.shape = shape
        self.layers = layers
        self.norm = norm
        self.rotary = rotary
        self.qkNorms = qkNorms
    }

    /// A cache for `batch` rows and `slots` positions, in the weights' precision.
    public func makeCache(batch: Int, slots: Int) -> KVCache {
        KVCache(shape: shape, batch: batch, slots: slots, precision: layers.first?.wqkv.precision ?? .float32)
    }

    /// Runs every layer over `x` [batch.count, dim] in place (no final norm): row e of x is batch input e.
    /// `rotaryShift[row]`, when given, is subtracted from the rotary position of every input of that cache
    /// row (its KV slot stays the input's position): a row whose sequence starts that many slots in.
    func run(_ x: UnsafeMutablePointer<Float>, batch: [BatchInput], cache: KVCache, rotaryShift: [Int]? = nil) {
        let s = shape, rows = batch.count
        let hd = s.headDim, nH = s.heads, nKV = s.kvHeads, hidden = s.ffnHidden, qkvWidth = s.qkvWidth
        precondition(batch.allSatisfy { $0.row >= 0 && $0.row < cache.batch && $0.input.position >= 0
                                        && $0.input.position < min(cache.slots, rotary.positions)
                                        && (0..<cache.slots).contains($0.visibility.lastSlot(query: $0.input.position))
                                        && $0.input.position >= (rotaryShift?[$0.row] ?? 0) },
                     "an input's row or position lies outside the cache or the rotary table")
        checkQueryOnly(batch, cache: cache)
        scratch.reserve(rows: rows, dim: s.dim, qkv: qkvWidth, attention: s.attentionWidth, ffn: 2 * hidden,
                        scores: cache.slots * ComputeThreads.count)
        let b = scratch
        for (l, lw) in layers.enumerated() {
            normRows(x, lw.attentionNorm, out: b.h, rows: rows)
            lw.wqkv.apply(b.h, m: rows, to: b.qkv)
            if let qk = qkNorms?[l] {
                eachRowRange(rows) { range in
                    for e in range { qk.apply(b.qkv + e * qkvWidth, heads: nH, kvHeads: nKV, headDim: hd) }
                }
            }
            eachRowRange(rows) { range in
                for e in range {  // q, k adjacent
                    let shift = rotaryShift?[batch[e].row] ?? 0
                    rotary.apply(b.qkv + e * qkvWidth, heads: nH + nKV, position: batch[e].input.position - shift)
                }
            }
            for (e, entry) in batch.enumerated() {
                let r = b.qkv + e * qkvWidth, position = entry.input.position
                for g in 0..<nKV {
                    cache.store(layer: l, batch: entry.row, head: g, slot: position, key: r + (nH + g) * hd, value: r + (nH + nKV + g) * hd)
                }
            }
            if l == 0 { for entry in batch where entry.input.writesCache { cache.markWritten(row: entry.row, slot: entry.input.position) } }
            attend(batch, qkv: b.qkv, layer: l, cache: cache, out: b.att, scores: b.scores)
            lw.wo.apply(b.att, m: rows, to: x, accumulate: true)

            normRows(x, lw.ffnNorm, out: b.h, rows: rows)
            lw.w13.apply(b.h, m: rows, to: b.ffn)
            eachRowRange(rows) { range in
                for r in range { siluMultiply(gate: b.ffn + r * 2 * hidden, up: b.ffn + r * 2 * hidden + hidden, count: hidden) }
            }
            lw.w2.apply(b.ffn, m: rows, ldx: 2 * hidden, to: x, accumulate: true)
        }
    }

    /// out[r] = rmsnorm(x[r]) · weight for `rows` rows, split over the cores when there are many.
    private func normRows(_ x: UnsafePointer<Float>, _ weight: [Float], out: UnsafeMutablePointer<Float>, rows: Int) {
        let dim = shape.dim, eps = shape.normEps
        weight.withUnsafeBufferPointer { w in
            eachRowRange(rows) { range in
                rmsNorm(x + range.lowerBound * dim, weight: w.baseAddress!, out: out + range.lowerBound * dim,
                        rows: range.count, n: dim, eps: eps)
            }
        }
    }

    /// out[j] = rmsnorm(x[rows[j]]) with the final norm: the hidden states a family's head reads.
    func finalNorm(_ x: UnsafePointer<Float>, rows: [Int], out: UnsafeMutablePointer<Float>) {
        norm.withUnsafeBufferPointer { w in
            for (j, r) in rows.enumerated() {
                rmsNorm(x + r * shape.dim, weight: w.baseAddress!, out: out + j * shape.dim, rows: 1, n: shape.dim, eps: shape.normEps)
            }
        }
    }

    /// A query-only input keeps its key/value in its slot for its own query but leaves the slot unwritten
    /// (attention lets a query see its own slot), so it needs `.writtenCausal` and a slot no token owns yet.
    private func checkQueryOnly(_ batch: [BatchInput], cache: KVCache) {
        for entry in batch where !entry.input.writesCache {
            precondition(entry.visibility == .writtenCausal, "query-only inputs need .writtenCausal visibility")
            precondition(!cache.isWritten(row: entry.row, slot: entry.input.position), "query-only input at written slot \(entry.input.position)")
        }
    }
}

/// Work buffers of a stack, grown when a pass needs more rows and otherwise reused (no allocation per pass).
private final class StackScratch {
    var h = UnsafeMutablePointer<Float>.allocate(capacity: 0), qkv = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var att = UnsafeMutablePointer<Float>.allocate(capacity: 0), ffn = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var scores = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    private var sizes = [Int](repeating: 0, count: 5)

    func reserve(rows: Int, dim: Int, qkv q: Int, attention a: Int, ffn f: Int, scores sc: Int) {
        let need = [rows * dim, rows * q, rows * a, rows * f, sc]
        func grow(_ p: inout UnsafeMutablePointer<Float>, _ i: Int) {
            if need[i] > sizes[i] { p.deallocate(); p = .allocate(capacity: need[i]); sizes[i] = need[i] }
        }
        grow(&h, 0); grow(&qkv, 1); grow(&att, 2); grow(&ffn, 3); grow(&scores, 4)
    }

    deinit { [h, qkv, att, ffn, scores].forEach { $0.deallocate() } }
}

/// Runs `body` over 0..<rows: at once for a few rows, split into one contiguous range per core for many
/// (each row is computed the same either way).
func eachRowRange(_ rows: Int, _ body: (Range<Int>) -> Void) {
    if rows < 16 { body(0..<rows); return }
    parallelRanges(rows) { body($0..<$1) }
}

/// A buffer of floats grown on demand and reused (a family model's own scratch).
final class GrowableBuffer {
    private(set) var pointer = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    private var capacity = 0

    /// The buffer with room for at least `count` floats (contents not kept when it grows).
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity { pointer.deallocate(); pointer = .allocate(capacity: count); capacity = count }
        return pointer
    }

    deinit { pointer.deallocate() }
}
