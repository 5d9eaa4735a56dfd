/// The multiply-add work of one VQ decode, counted as 2 FLOPs per multiply-add.
public struct VQDecodeFlops: Codable, Sendable {
    /// 3×3 convolutions: 2·Cout·Cin·9·H·W each (conv_in, res blocks, upsample convs, conv_out).
    public var conv3x3: Double
    /// 1×1 convolutions: 2·Cout·Cin·H·W each (post_quant_conv, nin_shortcut, attention q/k/v and proj_out).
    public var conv1x1: Double
    /// Attention products: 2·N²·C for the scores plus 2·N²·C for the weighted values, N = H·W.
    public var attention: Double

    /// Everything counted; GroupNorm, swish, softmax, bias adds, upsampling and the lookup are not.
    public var total: Double { conv3x3 + conv1x1 + attention }
}

extension VQDecoder {
    /// The FLOPs `decode` performs for a `height` × `width` token grid (mirrors its layer order).
    func decodeFlops(height: Int, width: Int) -> VQDecodeFlops {
        var flops = VQDecodeFlops(conv3x3: 0, conv1x1: 0, attention: 0)
        var plane = Double(height * width)
        func conv(_ w: ConvWeights) {
            let f = 2 * Double(w.cout * w.cin * w.kernel * w.kernel) * plane
            if w.kernel == 1 { flops.conv1x1 += f } else { flops.conv3x3 += f }
        }
        func res(_ r: ResnetWeights) {
            conv(r.conv1)
            conv(r.conv2)
            if let s = r.shortcut { conv(s) }
        }
        func attention(_ a: AttentionWeights) {
            conv(a.qkv)
            conv(a.projOut)
            flops.attention += 4 * plane * plane * Double(a.channels)
        }
        let w = weights
        conv(w.postQuantConv)
        conv(w.convIn)
        res(w.midRes1)
        attention(w.midAttention)
        res(w.midRes2)
        for level in w.levels {
            for (i, r) in level.res.enumerated() {
                res(r)
                if i < level.attention.count { attention(level.attention[i]) }
            }
            if let up = level.upsample {
                plane *= 4
                conv(up)
            }
        }
        conv(w.convOut)
        return flops
    }
}
