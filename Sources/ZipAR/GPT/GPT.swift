import Foundation

/// LlamaGen's decoder-only transformer (2D RoPE, fused wqkv, SwiGLU, RMSNorm, untied head) with one
/// forward over any set of (input, position) pairs and an explicit visibility rule. It holds no scheduling
/// state: the KV cache is passed in, and what each pass feeds is the schedule's business.
public final class GPT {
    public let config: GPTConfig
    public let weights: GPTWeights
    let rope: RoPE2D
    private var scratch = Scratch()

    public init(config: GPTConfig, weights: GPTWeights) {
        self.config = config
        self.weights = weights
        rope = RoPE2D(gridSize: config.gridSize, headDim: config.headDim, base: config.rope_base,
                      conditionTokens: config.cls_token_num)
    }

    /// Runs one pass. `conditions[b]` is the class label of batch row b (its count is the cache's batch).
    /// Every input writes its key/value into its position's slot (all of them before any attention, as a
    /// static cache does), then attends by `visibility`. Returns the logits of the inputs listed in
    /// `logitsFor`, laid out [batch][logitsFor.count][vocab]; the buffer is valid until the next call.
    public func forward(_ inputs: [ModelInput], conditions: [Int], cache: KVCache, visibility: Visibility,
                        logitsFor: [Int]) -> UnsafeBufferPointer<Float> {
        let c = config, n = inputs.count, batch = cache.batch, rows = batch * n
        let dim = c.dim, hd = c.headDim, nH = c.n_head, nKV = c.kvHeads, hidden = c.ffnHidden
        let qkvWidth = (nH + 2 * nKV) * hd
        precondition(conditions.count == batch, "one condition per batch row")
        checkQueryOnly(inputs, cache: cache, visibility: visibility)
        scratch.reserve(rows: rows, dim: dim, qkv: qkvWidth, ffn: 2 * hidden,
                        logitsRows: batch * logitsFor.count, vocab: c.vocab_size, slots: cache.slots * ComputeThreads.count)
        let s = scratch

        // x[b·n + i] = embedding of input i in batch row b
        for b in 0..<batch {
            for (i, input) in inputs.enumerated() {
                let out = s.x + (b * n + i) * dim
                switch input.source {
                case .condition: weights.classEmbedding.copyRow(conditions[b], to: out)
                case .token(let t): weights.tokenEmbedding.copyRow(t, to: out)
                }
            }
        }

        let eps = Float(c.norm_eps)
        for (l, lw) in weights.layers.enumerated() {
            // attention block: x += wo · attn(rope(wqkv · norm(x)))
            lw.attentionNorm.withUnsafeBufferPointer { rmsNorm(s.x, weight: $0.baseAddress!, out: s.h, rows: rows, n: dim, eps: eps) }
            lw.wqkv.apply(s.h, m: rows, to: s.qkv)
            for b in 0..<batch {
                for (i, input) in inputs.enumerated() {
                    let r = s.qkv + (b * n + i) * qkvWidth
                    rope.apply(r, heads: nH + nKV, position: input.position)  // q and k heads are adjacent
                    for g in 0..<nKV {
                        cache.store(layer: l, batch: b, head: g, slot: input.position,
                                    key: r + (nH + g) * hd, value: r + (nH + nKV + g) * hd)
                    }
                }
            }
            if l == 0 { for input in inputs where input.writesCache { cache.markWritten(input.position) } }
            attend(inputs, qkv: s.qkv, layer: l, cache: cache, visibility: visibility, out: s.att, scores: s.scores)
            lw.wo.apply(s.att, m: rows, to: s.x, accumulate: true)

            // feed-forward block: x += w2 · (silu(w1 · norm(x)) · w3 · norm(x))
            lw.ffnNorm.withUnsafeBufferPointer { rmsNorm(s.x, weight: $0.baseAddress!, out: s.h, rows: rows, n: dim, eps: eps) }
            lw.w13.apply(s.h, m: rows, to: s.ffn)
            for r in 0..<rows { siluMultiply(gate: s.ffn + r * 2 * hidden, up: s.ffn + r * 2 * hidden + hidden, count: hidden) }
            lw.w2.apply(s.ffn, m: rows, ldx: 2 * hidden, to: s.x, accumulate: true)
        }

        // head: logits only for the inputs that are sampled
        let m = batch * logitsFor.count
        weights.norm.withUnsafeBufferPointer { w in
            for b in 0..<batch {
                for (j, i) in logitsFor.enumerated() {
                    rmsNorm(s.x + (b * n + i) * dim, weight: w.baseAddress!, out: s.h + (b * logitsFor.count + j) * dim, rows: 1, n: dim, eps: eps)
                }
            }
        }
        if m > 0 {
            weights.output.apply(s.h, m: m, to: s.logits)
        }
        return UnsafeBufferPointer(start: s.logits, count: m * c.vocab_size)
    }
}

/// Work buffers of a GPT, grown when a pass needs more rows and otherwise reused (no allocation per pass).
private final class Scratch {
    var x = UnsafeMutablePointer<Float>.allocate(capacity: 0), h = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var qkv = UnsafeMutablePointer<Float>.allocate(capacity: 0), att = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var ffn = UnsafeMutablePointer<Float>.allocate(capacity: 0), logits = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var scores = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    private var sizes = [Int](repeating: 0, count: 7)

    func reserve(rows: Int, dim: Int, qkv q: Int, ffn f: Int, logitsRows: Int, vocab: Int, slots: Int) {
        let need = [rows * dim, max(rows, logitsRows) * dim, rows * q, rows * dim, rows * f, logitsRows * vocab, slots]
        func grow(_ p: inout UnsafeMutablePointer<Float>, _ i: Int) {
            if need[i] > sizes[i] { p.deallocate(); p = .allocate(capacity: need[i]); sizes[i] = need[i] }
        }
        grow(&x, 0); grow(&h, 1); grow(&qkv, 2); grow(&att, 3); grow(&ffn, 4); grow(&logits, 5); grow(&scores, 6)
    }

    deinit { [x, h, qkv, att, ffn, logits, scores].forEach { $0.deallocate() } }
}

extension GPT {
    /// A query-only input keeps its key/value in its slot for its own query but leaves the slot unwritten
    /// (attention lets a query see its own slot), so it needs `.writtenCausal` and a slot no token owns yet.
    private func checkQueryOnly(_ inputs: [ModelInput], cache: KVCache, visibility: Visibility) {
        for input in inputs where !input.writesCache {
            precondition(visibility == .writtenCausal, "query-only inputs need .writtenCausal visibility")
            precondition(!cache.written[input.position], "query-only input at written slot \(input.position)")
        }
    }
}
