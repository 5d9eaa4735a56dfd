import Foundation

extension GPT {
    /// out[row, head] = softmax(q·Kᵀ/√d over the visible slots) · V for every batch row, input and head,
    /// reading keys and values in place from the cache. Work is split over (batch row, head) pairs on
    /// every core; `scores` holds `cache.slots` floats per thread.
    func attend(_ inputs: [ModelInput], qkv: UnsafeMutablePointer<Float>, layer l: Int, cache: KVCache,
                visibility: Visibility, out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>) {
        let c = config, n = inputs.count, hd = c.headDim, nH = c.n_head
        let qkvWidth = (nH + 2 * c.kvHeads) * hd, group = nH / c.kvHeads, dim = c.dim
        let scale = 1 / Float(hd).squareRoot()
        let keys = cache.keys[l], values = cache.values[l], slots = cache.slots
        let positions = inputs.map(\.position)
        let onlyWritten = visibility == .writtenCausal
        let units = cache.batch * nH, threads = min(ComputeThreads.count, units)
        cache.written.withUnsafeBufferPointer { written in
            positions.withUnsafeBufferPointer { pos in
                parallelFor(threads) { t in
                    let score = scores + t * slots
                    for unit in stride(from: t, to: units, by: threads) {
                        let b = unit / nH, h = unit % nH
                        let base = cache.offset(batch: b, head: h / group, slot: 0)
                        for i in 0..<n {
                            let row = b * n + i
                            attendOne(q: qkv + row * qkvWidth + h * hd, keys: keys + base, values: values + base,
                                      last: pos[i], written: onlyWritten ? written.baseAddress : nil, headDim: hd,
                                      scale: scale, scores: score, out: out + row * dim + h * hd)
                        }
                    }
                }
            }
        }
    }
}

/// One query against slots 0...last (only written ones when `written` is given, and always its own slot
/// `last`, where a query-only input's key/value sit unwritten): scaled dot products, softmax in float,
/// weighted sum of values into `out`.
@inline(__always)
func attendOne(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, last: Int,
               written: UnsafePointer<Bool>?, headDim hd: Int, scale: Float,
               scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
    var maxScore = -Float.infinity
    for slot in 0...last {
        if let written, !written[slot], slot != last { scores[slot] = -.infinity; continue }
        let s = dot(q, keys + slot * hd, hd) * scale
        scores[slot] = s
        maxScore = max(maxScore, s)
    }
    out.update(repeating: 0, count: hd)
    var sum: Float = 0
    for slot in 0...last where scores[slot] > -.infinity {
        let p = expf(scores[slot] - maxScore)
        sum += p
        axpy(p, values + slot * hd, out, hd)
    }
    let inv = 1 / sum
    for d in 0..<hd { out[d] *= inv }
}
