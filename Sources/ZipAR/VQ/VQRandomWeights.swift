extension VQDecoder {
    /// A decoder with random weights at `config`'s real shapes (convolutions normal with std 1/√fan-in,
    /// norms 1, biases 0), for benchmarks and memory checks without a download.
    public convenience init(randomFor config: VQConfig, seed: UInt64) throws {
        try config.validate(file: "random VQ weights")
        var rng = RandomSource(seed: seed)
        let weights = try VQDecoderWeights(layout: VQDecoderLayout(config: config)) { name, shape in
            let count = shape.reduce(1, *)
            if shape.count == 1 { return [Float](repeating: name.hasSuffix(".bias") ? 0 : 1, count: count) }
            let std = 1 / Float(shape.dropFirst().reduce(1, *)).squareRoot()
            return (0..<count).map { _ in rng.nextGaussian() * std }
        }
        self.init(weights: weights)
    }
}
