import Foundation

extension Emu3VQDecoder {
    /// A decoder with random weights at `config`'s shapes (convolutions, linear layers and the codebook
    /// uniform with std 1/√fan-in; norm scales and BatchNorm variances 1, biases and means 0), built fast
    /// for benchmarks.
    public convenience init(uniformRandomFor config: Emu3VQConfig, seed: UInt64) throws {
        try config.validate(file: "random Emu3 VQ weights")
        var seeds = RandomSource(seed: seed)
        let weights = try Emu3VQWeights(config: config) { name, shape in
            let count = shape.reduce(1, *)
            if name.hasSuffix(".bias") || name.hasSuffix(".running_mean") { return [Float](repeating: 0, count: count) }
            if shape.count == 1 || name.hasSuffix(".running_var") { return [Float](repeating: 1, count: count) }
            let fanIn = shape.dropFirst().reduce(1, *)
            return uniformRandomFloats(count: count, std: 1 / Float(fanIn).squareRoot(), seed: seeds.next())
        }
        self.init(config: config, weights: weights)
    }

    /// The FLOPs `decode` performs for a `height` × `width` token grid, frame 0 only (mirrors its layer
    /// order; the temporal stack runs on both the latent and zq, the SpatialNorms' 1×1 convolutions at token
    /// resolution).
    func decodeFlops(height: Int, width: Int) -> VQDecodeFlops {
        var flops = VQDecodeFlops(conv3x3: 0, conv1x1: 0, attention: 0)
        let tokens = Double(height * width)
        var plane = tokens
        func conv(_ w: ConvWeights, at p: Double) {
            let f = 2 * Double(w.cout * w.cin * w.kernel * w.kernel) * p
            if w.kernel == 1 { flops.conv1x1 += f } else { flops.conv3x3 += f }
        }
        func norm(_ n: Emu3SpatialNormWeights) {
            conv(n.convY, at: tokens)
            conv(n.convB, at: tokens)
        }
        func res(_ r: Emu3ResBlockWeights) {
            norm(r.norm1)
            conv(r.conv1, at: plane)
            norm(r.norm2)
            conv(r.conv2, at: plane)
            if let s = r.shortcut { conv(s, at: plane) }
        }
        func attention(_ a: Emu3AttentionWeights) {
            norm(a.norm)
            conv(a.qkv, at: plane)
            conv(a.out, at: plane)
            flops.attention += 4 * plane * plane * Double(a.channels)
        }
        let w = weights
        conv(w.postQuant, at: tokens)
        for block in w.temporalBlocks {
            for _ in 0..<2 {
                conv(block.conv1, at: tokens)
                conv(block.conv2, at: tokens)
            }
        }
        for up in w.temporalUpsamples {
            for _ in 0..<2 { conv(up, at: tokens) }
        }
        conv(w.convIn, at: plane)
        res(w.middle.0)
        attention(w.middle.1)
        res(w.middle.2)
        for level in w.levels {
            for (j, block) in level.blocks.enumerated() {
                res(block)
                if !level.attentions.isEmpty { attention(level.attentions[j]) }
            }
            if let up = level.upsample {
                plane *= 4
                conv(up, at: plane)
            }
        }
        norm(w.normOut)
        conv(w.convOut, at: plane)
        return flops
    }
}
