import Foundation
import XCTest
@testable import ZipAR

/// Matrices packed straight from a checkpoint's mapped tensors (WeightLoader) equal those packed from the
/// tensor's float32 copy, in every precision; shape errors still name the weight.
final class StreamingLoadTests: XCTestCase {
    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pt/\(name)").path
    }

    private func assertSame(_ a: WeightMatrix, _ b: WeightMatrix, _ what: String) {
        XCTAssertEqual(a.rows, b.rows, what)
        XCTAssertEqual(a.cols, b.cols, what)
        switch (a.storage, b.storage) {
        case (.float32(let x), .float32(let y)): XCTAssertEqual(x.map(\.bitPattern), y.map(\.bitPattern), what)
        case (.bfloat16(let x), .bfloat16(let y)): XCTAssertEqual(x, y, what)
        case (.int8(let x, let s), .int8(let y, let t)): XCTAssertEqual(x, y, what); XCTAssertEqual(s, t, what)
        default: XCTFail("\(what): storages differ in kind")
        }
    }

    /// Every 2-D tensor of the .pt fixtures (float32 contiguous and transposed views, bfloat16, float16),
    /// and a matrix stacked from two of them.
    func testPackedFromMappedTensorEqualsPackedFromFloats() throws {
        for file in ["model_p2.pt", "shared_state_dict.pt", "dtypes_module.pt", "bare.pt"] {
            let checkpoint = try Checkpoint.open(StreamingLoadTests.fixture(file))
            for precision in WeightPrecision.allCases {
                let load = WeightLoader(checkpoint: checkpoint, precision: precision)
                for name in checkpoint.names where checkpoint.tensors[name]!.shape.count == 2 {
                    let e = checkpoint.tensors[name]!
                    let old = WeightMatrix(rows: e.shape[0], cols: e.shape[1], e.floats(), precision: precision)
                    assertSame(try load.matrix(name, rows: nil, cols: nil), old, "\(file) \(name) \(precision)")
                }
            }
        }
        let checkpoint = try Checkpoint.open(StreamingLoadTests.fixture("model_p2.pt"))
        let (a, b) = ("tok_embeddings.weight", "output.weight")
        for precision in WeightPrecision.allCases {
            let both = checkpoint.tensors[a]!.floats() + checkpoint.tensors[b]!.floats()
            let stacked = try WeightLoader(checkpoint: checkpoint, precision: precision).stacked([(a, 6), (b, 6)], cols: 4)
            assertSame(stacked, WeightMatrix(rows: 12, cols: 4, both, precision: precision), "stacked \(precision)")
        }
    }

    /// A GPT loaded from a safetensors file in each precision equals the same weights packed in memory,
    /// with embeddings gathered in `precision.gathered`.
    func testGPTFileLoadEqualsInMemoryPacking() throws {
        var c = GPTConfig()
        (c.dim, c.n_layer, c.n_head, c.vocab_size, c.num_classes, c.block_size) = (48, 2, 4, 40, 10, 16)
        let reference = GPTWeights(randomFor: c, seed: 9)
        let path = NSTemporaryDirectory() + "streaming-load-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsWriter.write(reference.named(c), to: path)
        for precision in WeightPrecision.allCases {
            let loaded = try GPTWeights(config: c, checkpoint: try Checkpoint.open(path), precision: precision)
            let packed = GPTWeights(randomFor: c, seed: 9, precision: precision)
            assertSame(loaded.tokenEmbedding, packed.tokenEmbedding, "tokens \(precision)")
            assertSame(loaded.classEmbedding, packed.classEmbedding, "classes \(precision)")
            assertSame(loaded.output, packed.output, "output \(precision)")
            for (l, p) in zip(loaded.layers, packed.layers) {
                for (x, y) in [(l.wqkv, p.wqkv), (l.wo, p.wo), (l.w13, p.w13), (l.w2, p.w2)] { assertSame(x, y, "layer \(precision)") }
            }
        }
    }

    /// A mis-shaped matrix is one error naming the weight and both shapes, whatever the precision.
    func testOddShapeIsAClearError() throws {
        var c = GPTConfig()
        (c.dim, c.n_layer, c.n_head, c.vocab_size, c.num_classes, c.block_size) = (48, 1, 4, 40, 10, 16)
        let tensors = GPTWeights(randomFor: c, seed: 1).named(c).map { t in
            t.name == "layers.0.feed_forward.w2.weight" ? (t.name, [48, 100], [Float](repeating: 0, count: 4800)) : t
        }
        let path = NSTemporaryDirectory() + "odd-shape-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsWriter.write(tensors, to: path)
        for precision in WeightPrecision.allCases {
            XCTAssertThrowsError(try GPTWeights(config: c, checkpoint: try Checkpoint.open(path), precision: precision)) { error in
                XCTAssertTrue("\(error)".contains("weight 'layers.0.feed_forward.w2.weight' has shape [48, 100], expected [48, 256]"), "\(error)")
            }
        }
    }
}
