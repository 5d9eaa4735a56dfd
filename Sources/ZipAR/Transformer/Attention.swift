import CKernels
import Foundation

extension TransformerStack {
    /// out[row, head] = softmax(q·Kᵀ/√d over the visible slots) · V for every batch row, input and head,
    /// reading keys and values in place from the cache, float32 or bfloat16 (the kernels
    /// `zipar_attend_one` and `zipar_attend_one_bf16`: a query sees the slots up to its position, only
    /// written ones under `.writtenCausal`, and always its own slot, where a query-only input's key and
    /// value sit unwritten). Work is split over (batch row, head) pairs on every core; `scores` holds
    /// `cache.slots` floats per thread.
    func attend(_ inputs: [ModelInput], qkv: UnsafeMutablePointer<Float>, layer l: Int, cache: KVCache,
                visibility: Visibility, out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>) {
        let s = shape, n = inputs.count, hd = s.headDim, nH = s.heads
        let qkvWidth = s.qkvWidth, group = nH / s.kvHeads, width = s.attentionWidth
        let scale = 1 / Float(hd).squareRoot()
        let keys = cache.keys[l], values = cache.values[l], slots = cache.slots
        let positions = inputs.map(\.position)
        let onlyWritten = visibility == .writtenCausal
        let units = cache.batch * nH, threads = min(ComputeThreads.count, units)
        cache.written.withUnsafeBufferPointer { flags in
            let written = onlyWritten ? flags.baseAddress : nil
            positions.withUnsafeBufferPointer { pos in
                parallelFor(threads) { t in
                    let score = scores + t * slots
                    for unit in stride(from: t, to: units, by: threads) {
                        let b = unit / nH, h = unit % nH
                        let base = cache.offset(batch: b, head: h / group, slot: 0)
                        for i in 0..<n {
                            let row = b * n + i, q = qkv + row * qkvWidth + h * hd, o = out + row * width + h * hd
                            switch cache.precision {
                            case .float32:
                                zipar_attend_one(q, keys.assumingMemoryBound(to: Float.self) + base,
                                                 values.assumingMemoryBound(to: Float.self) + base, Int64(pos[i]),
                                                 written, Int64(hd), scale, score, o)
                            case .bfloat16:
                                zipar_attend_one_bf16(q, keys.assumingMemoryBound(to: UInt16.self) + base,
                                                      values.assumingMemoryBound(to: UInt16.self) + base, Int64(pos[i]),
                                                      written, Int64(hd), scale, score, o)
                            }
                        }
                    }
                }
            }
        }
    }
}
