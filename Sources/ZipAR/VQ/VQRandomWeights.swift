extension VQDecoder {
    /// A decoder with random weights at `config`'s real shapes (convolutions normal with std 1/√fan-in,
    /// norms 1, biases 0), for benchmarks and memory checks without a download.
    public convenience init(randomFor config: VQConfig, seed: UInt64) throws {
        var rng = RandomSource(seed: seed)
        try self.init(shapesOf: config) { count, std in (0..<count).map { _ in rng.nextGaussian() * std } }
    }

    /// A decoder at `config`'s real shapes: every norm weight 1, every bias 0, and every other tensor from
    /// `values(count, std)` with std 1/√fan-in, called in a fixed order.
    convenience init(shapesOf config: VQConfig, values: (Int, Float) -> [Float]) throws {
        try config.validate(file: "random VQ weights")
        let weights = try VQDecoderWeights(layout: VQDecoderLayout(config: config)) { name, shape in
            let count = shape.reduce(1, *)
            if shape.count == 1 { return [Float](repeating: name.hasSuffix(".bias") ? 0 : 1, count: count) }
            return values(count, 1 / Float(shape.dropFirst().reduce(1, *)).squareRoot())
        }
        self.init(weights: weights)
    }
}
