import Foundation

/// LlamaGen's AttnBlock forward pass on the workspace: x + proj_out(softmax(qᵀk / √C) applied to v), with
/// q, k, v 1×1 convolutions of GroupNorm(x). The input is in `a`, the output ends in `a`.
enum AttentionBlock {
    static func forward(_ w: AttentionWeights, workspace ws: VQWorkspace, height: Int, width: Int) {
        let channels = w.channels
        let n = height * width
        GroupNorm.apply(w.norm, input: ws.a.pointer, channels: channels, plane: n, output: ws.b.pointer, swish: false,
                        scale: ws.normScale.pointer, shift: ws.normShift.pointer)
        // c = [q; k; v], each [C, N].
        Conv2D.apply(w.qkv, input: ws.b.pointer, height: height, width: width, output: ws.c.pointer, workspace: ws)
        let q = ws.c.pointer, k = q + channels * n, v = k + channels * n
        let scores = ws.scores.pointer
        // scores[i, j] = Σ_c q[c, i] · k[c, j] · C^−½
        sgemm(m: n, n: n, k: channels, a: q, transA: true, b: k, c: scores, alpha: Float(1 / Double(channels).squareRoot()))
        for i in 0..<n { softmaxRow(scores + i * n, count: n) }
        // b[c, i] = Σ_j v[c, j] · scores[i, j]
        sgemm(m: channels, n: n, k: n, a: v, b: scores, transB: true, c: ws.b.pointer)
        Conv2D.apply(w.projOut, input: ws.b.pointer, height: height, width: width, output: ws.a.pointer,
                     accumulate: true, workspace: ws)
    }
}

/// In-place softmax of one row of `count` floats (the VQ decoders' attention).
func softmaxRow(_ row: UnsafeMutablePointer<Float>, count: Int) {
    var top = -Float.infinity
    for i in 0..<count { top = max(top, row[i]) }
    var total: Float = 0
    for i in 0..<count {
        let e = Foundation.exp(row[i] - top)
        row[i] = e
        total += e
    }
    for i in 0..<count { row[i] /= total }
}
