import CKernels
import Foundation

extension TransformerStack {
    /// out[entry, head] = softmax(q·Kᵀ/√d over the visible slots) · V for every input of the batch and
    /// head, reading keys and values in place from the input's cache row, float32 or bfloat16 (the
    /// kernels `zipar_attend_one` and `zipar_attend_one_bf16`: a query sees the slots up to its position,
    /// only written ones under `.writtenCausal`; up to a given slot under `.writtenThrough`), and always its own slot, where a query-only input's key
    /// and value sit unwritten). Work is split over (input, head) pairs on every core; `scores` holds
    /// `cache.slots` floats per thread.
    func attend(_ batch: [BatchInput], qkv: UnsafeMutablePointer<Float>, layer l: Int, cache: KVCache,
                out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>) {
        let s = shape, hd = s.headDim, nH = s.heads
        let qkvWidth = s.qkvWidth, group = nH / s.kvHeads, width = s.attentionWidth
        let scale = 1 / Float(hd).squareRoot()
        let keys = cache.keys[l], values = cache.values[l], slots = cache.slots
        let units = batch.count * nH, threads = min(ComputeThreads.count, units)
        cache.written.withUnsafeBufferPointer { flags in
            batch.withUnsafeBufferPointer { entries in
                parallelFor(threads) { t in
                    let score = scores + t * slots
                    for unit in stride(from: t, to: units, by: threads) {
                        let e = unit / nH, h = unit % nH, entry = entries[e], b = entry.row
                        let written = entry.visibility == .staticCausal ? nil : flags.baseAddress! + b * slots
                        let base = cache.offset(batch: b, head: h / group, slot: 0)
                        let position = Int64(entry.visibility.lastSlot(query: entry.input.position))
                        let q = qkv + e * qkvWidth + h * hd, o = out + e * width + h * hd
                        if cache.precision == .float32 {
                            zipar_attend_one(q, keys.assumingMemoryBound(to: Float.self) + base,
                                             values.assumingMemoryBound(to: Float.self) + base, position,
                                             written, Int64(hd), scale, score, o)
                        } else {
                            zipar_attend_one_bf16(q, keys.assumingMemoryBound(to: UInt16.self) + base,
                                                  values.assumingMemoryBound(to: UInt16.self) + base, position,
                                                  written, Int64(hd), scale, score, o)
                        }
                    }
                }
            }
        }
    }
}
