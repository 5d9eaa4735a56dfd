import Foundation
import XCTest
@testable import ZipAR

/// Lumina-mGPT model folders as they may come: sharded, with transformers' per-head q/k norm layout,
/// bfloat16, and with tensors that do not belong (refused by name).
final class LuminaFolderTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("lumina-folders-\(UUID())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    /// A copy of the fixture model folder whose weights are `tensors` (name, shape, values), written by `write`.
    func folder(_ name: String, _ write: (URL, [(name: String, shape: [Int], data: [Float])]) throws -> Void) throws -> String {
        let dir = work.appendingPathComponent(name)
        try FileManager.default.copyItem(at: LuminaCase.root.appendingPathComponent("model"), to: dir)
        let file = dir.appendingPathComponent("model.safetensors")
        let ck = try Checkpoint.open(file.path)
        let tensors = ck.names.map { (name: $0, shape: ck.tensors[$0]!.shape, data: ck.tensors[$0]!.floats()) }
        try FileManager.default.removeItem(at: file)
        try write(dir, tensors)
        return dir.path
    }

    func tokens(_ directory: String, run: LuminaCase.Run, case c: LuminaCase) throws -> (tokens: [Int], precision: WeightPrecision) {
        let loaded = try ModelRegistry.load(directory: directory, imageSize: c.info.image_size, decoderDirectory: c.vqDirectory)
        let result = try ImageGenerator(model: loaded.model).generate(try c.spec(run, width: loaded.model.gridWidth), options: c.options(run))
        return (result.tokens, loaded.model.precision)
    }

    /// Two shards behind model.safetensors.index.json, q/k norms stored [heads, head_dim] as transformers'
    /// converter writes them: the reference's tokens.
    func testShardedPerHeadNorms() throws {
        let c = try LuminaCase("lumina-4x4"), run = c.info.runs[0]
        let dir = try folder("sharded") { dir, tensors in
            let heads = 2
            let widened = tensors.map { t -> (name: String, shape: [Int], data: [Float]) in
                guard t.name.hasSuffix("_norm.weight") || t.name.hasSuffix("_norm.bias"), t.name.contains("self_attn") else { return t }
                XCTAssertEqual(t.shape[0], 1)
                return (t.name, [heads, t.shape[1]], Array([[Float]](repeating: t.data, count: heads).joined()))
            }
            let half = widened.count / 2
            var map: [String: String] = [:]
            for (k, part) in [widened[..<half], widened[half...]].enumerated() {
                let file = "model-0000\(k + 1)-of-00002.safetensors"
                try SafetensorsWriter.write(Array(part), to: dir.appendingPathComponent(file).path)
                for t in part { map[t.name] = file }
            }
            try JSONSerialization.data(withJSONObject: ["metadata": [:], "weight_map": map])
                .write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        }
        XCTAssertEqual(try tokens(dir, run: run, case: c).tokens, run.tokens)
    }

    /// bfloat16 weights load as bfloat16 and generate a complete grid of image codes.
    func testBFloat16Folder() throws {
        let c = try LuminaCase("lumina-4x4"), run = c.info.runs[0]
        let dir = try folder("bf16") { dir, tensors in
            try LuminaFolderTests.writeBFloat16(tensors, to: dir.appendingPathComponent("model.safetensors"))
        }
        let (got, precision) = try tokens(dir, run: run, case: c)
        XCTAssertEqual(precision, .bfloat16)
        XCTAssertEqual(got.count, c.info.height * c.info.width)
        XCTAssertTrue(got.allSatisfy { (0..<8192).contains($0) })
    }

    /// A tensor that is not part of a Chameleon text model is an error naming it.
    func testUnexpectedTensor() throws {
        let c = try LuminaCase("lumina-4x4")
        let dir = try folder("extra") { dir, tensors in
            try SafetensorsWriter.write(tensors + [(name: "model.layers.0.self_attn.rotary.inv_freq", shape: [2], data: [1, 2])],
                                        to: dir.appendingPathComponent("model.safetensors").path)
        }
        XCTAssertThrowsError(try ModelRegistry.load(directory: dir, imageSize: 64, decoderDirectory: c.vqDirectory)) { error in
            XCTAssertTrue("\(error)".contains("unexpected weight 'model.layers.0.self_attn.rotary.inv_freq'"), "\(error)")
        }
    }

    /// `tensors` as a BF16 safetensors file (each value rounded to nearest even).
    static func writeBFloat16(_ tensors: [(name: String, shape: [Int], data: [Float])], to url: URL) throws {
        var header: [String: Any] = [:], body = Data(), offset = 0
        for t in tensors {
            header[t.name] = ["dtype": "BF16", "shape": t.shape, "data_offsets": [offset, offset + 2 * t.data.count]]
            for v in t.data { withUnsafeBytes(of: bfloat16Bits(v).littleEndian) { body.append(contentsOf: $0) } }
            offset += 2 * t.data.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(body)
        try file.write(to: url)
    }
}
