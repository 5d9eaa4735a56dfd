import Foundation

/// The small CNN that scores generated glyphs (tools/demo/models.py `GlyphClassifier`): for each width in
/// `channels`, a 3×3 convolution (zero padding 1) + bias, ReLU and a 2×2 max-pool; then the feature map
/// flattened in (C, H, W) order → fc1 + ReLU (the features) → fc2 (the logits). Input pixels are scaled
/// to value / 127.5 − 1. Work buffers are allocated once; one classifier runs one image at a time.
public final class GlyphClassifier {
    public let config: ClassifierConfig
    private let convs: [ConvWeights]
    private let fc1: (weight: [Float], bias: [Float]), fc2: (weight: [Float], bias: [Float])
    private let a: FloatScratch, b: FloatScratch, columns: FloatScratch

    /// Loads `directory/config.json` and its weights (model.safetensors), every key checked by name and shape.
    public convenience init(directory: String) throws {
        let config = try ModelFiles.config(ClassifierConfig.self, in: directory)
        try config.validate(file: (directory as NSString).appendingPathComponent("config.json"))
        try self.init(config: config, checkpoint: try Checkpoint.open(try ModelFiles.weights(in: directory)))
    }

    /// A classifier of `config` with the weights of `checkpoint`; a missing, misshapen or unexpected key
    /// is an error naming it.
    public init(config: ClassifierConfig, checkpoint: Checkpoint) throws {
        self.config = config
        var expected: Set<String> = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
        var cin = config.in_channels, convs: [ConvWeights] = []
        for (i, cout) in config.channels.enumerated() {
            convs.append(try ConvWeights(checkpoint.floats, "conv\(i + 1)", cin: cin, cout: cout, kernel: 3))
            expected.formUnion(["conv\(i + 1).weight", "conv\(i + 1).bias"])
            cin = cout
        }
        self.convs = convs
        let flat = cin * config.finalSide * config.finalSide
        fc1 = (try checkpoint.floats("fc1.weight", shape: [config.fc_hidden, flat]), try checkpoint.floats("fc1.bias", shape: [config.fc_hidden]))
        fc2 = (try checkpoint.floats("fc2.weight", shape: [config.num_classes, config.fc_hidden]),
               try checkpoint.floats("fc2.bias", shape: [config.num_classes]))
        if let extra = checkpoint.names.first(where: { !expected.contains($0) }) {
            throw CheckpointError(checkpoint.path, "unexpected weight \(quoted(extra)) for a glyph classifier")
        }
        let side = config.image_size
        var largest = config.in_channels * side * side, columnFloats = 0, s = side, c = config.in_channels
        for cout in config.channels {
            largest = max(largest, cout * s * s)
            columnFloats = max(columnFloats, c * 9 * s * s)
            c = cout
            s /= 2
        }
        a = FloatScratch(count: largest)
        b = FloatScratch(count: largest)
        columns = FloatScratch(count: columnFloats)
    }

    /// Logits [num_classes] and features [fc_hidden] of one image of image_size × image_size pixels.
    public func classify(_ image: RGBImage) -> (logits: [Float], features: [Float]) {
        let side = config.image_size
        precondition(image.width == side && image.height == side, "the classifier takes \(side)×\(side) images")
        let plane = side * side
        for i in 0..<plane {
            for ch in 0..<3 { a.pointer[ch * plane + i] = Float(image.pixels[i * 3 + ch]) / 127.5 - 1 }
        }
        var s = side
        for conv in convs {
            Conv2D.direct(conv, input: a.pointer, height: s, width: s, output: b.pointer, columns: columns)
            reluMaxPool2(b.pointer, channels: conv.cout, side: s, into: a.pointer)
            s /= 2
        }
        let features = dense(fc1, input: a.pointer, relu: true)
        let logits = features.withUnsafeBufferPointer { dense(fc2, input: $0.baseAddress!, relu: false) }
        return (logits, features)
    }

    /// y = W x + b (W [out, in] row-major), optionally through ReLU.
    private func dense(_ layer: (weight: [Float], bias: [Float]), input: UnsafePointer<Float>, relu: Bool) -> [Float] {
        var y = layer.bias
        let inputs = layer.weight.count / y.count
        layer.weight.withUnsafeBufferPointer { w in
            y.withUnsafeMutableBufferPointer { out in
                sgemm(m: out.count, n: 1, k: inputs, a: w.baseAddress!, b: input, c: out.baseAddress!, beta: 1)
            }
        }
        return relu ? y.map { max($0, 0) } : y
    }
}

/// out[c, side/2, side/2] = max over each 2×2 block of relu(x[c, side, side]) (side even).
func reluMaxPool2(_ x: UnsafePointer<Float>, channels: Int, side: Int, into out: UnsafeMutablePointer<Float>) {
    let half = side / 2
    for c in 0..<channels {
        let src = x + c * side * side, dst = out + c * half * half
        for y in 0..<half {
            for xx in 0..<half {
                let p = src + 2 * y * side + 2 * xx
                dst[y * half + xx] = max(max(p[0], p[1]), max(p[side], p[side + 1]), 0)
            }
        }
    }
}
