/// A benchmark's decoder built with random weights, and its FLOP count for a square token grid.
struct BuiltBenchmarkDecoder {
    let decoder: any ImageDecoder
    /// The FLOPs of one decode of a side × side grid.
    let flops: (_ side: Int) -> VQDecodeFlops

    init(_ spec: BenchmarkDecoder, seed: UInt64) throws {
        switch spec {
        case .vq(let config):
            let d = try VQDecoder(uniformRandomFor: config, seed: seed)
            decoder = d
            flops = { d.decodeFlops(height: $0, width: $0) }
        case .emu3(let config):
            let d = try Emu3VQDecoder(uniformRandomFor: config, seed: seed)
            decoder = d
            flops = { d.decodeFlops(height: $0, width: $0) }
        }
    }
}
