import Foundation
import XCTest
@testable import ZipAR

/// PyTorch .pt reading: real torch files from the conformance cases, the fixtures written by
/// tools/make_pt_fixtures.py (values compared exactly against Fixtures/pt/expected.json), malformed
/// archives and pickles (one-line errors, never a crash), and the safetensors writer.
final class TorchCheckpointTests: XCTestCase {
    private var fixtures: URL {
        get throws {
            try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        }
    }

    private var ptFixtures: URL { get throws { try fixtures.appendingPathComponent("pt") } }

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pt-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    // MARK: - Real torch files

    func testConformanceGPTCheckpoint() throws {
        let url = try fixtures.appendingPathComponent("conformance/c2i-pt-10x10/gpt/model.pt")
        let checkpoint = try Checkpoint.open(url.path)
        XCTAssertEqual(checkpoint.tensors.count, 18)
        let expected: [String: [Int]] = [
            "tok_embeddings.weight": [1024, 128],
            "layers.0.attention.wqkv.weight": [384, 128],
            "cls_embedding.embedding_table.weight": [11, 128],
            "layers.1.feed_forward.w2.weight": [128, 512],
            "norm.weight": [128],
            "output.weight": [1024, 128],
        ]
        for (name, shape) in expected {
            let entry = try checkpoint.entry(name)
            XCTAssertEqual(entry.shape, shape, name)
            XCTAssertEqual(entry.dtype, .float32, name)
        }
        for entry in checkpoint.tensors.values {
            let values = entry.floats()
            XCTAssertEqual(values.count, entry.count, entry.name)
            XCTAssertTrue(values.allSatisfy { $0.isFinite }, entry.name)
            XCTAssertNotNil(entry.contiguousFloat32, "\(entry.name) should be readable in place")
        }
        XCTAssertFalse(try checkpoint.floats("tok_embeddings.weight", shape: [1024, 128]).allSatisfy { $0 == 0 })
    }

    func testConformanceVQCheckpoint() throws {
        let url = try fixtures.appendingPathComponent("conformance/c2i-pt-10x10/vq/model.pt")
        let checkpoint = try Checkpoint.open(url.path)
        XCTAssertEqual(checkpoint.tensors.count, 252)
        XCTAssertEqual(try checkpoint.entry("quantize.embedding.weight").shape, [1024, 8])
        XCTAssertEqual(try checkpoint.entry("post_quant_conv.weight").shape, [64, 8, 1, 1])
        XCTAssertEqual(try checkpoint.entry("encoder.conv_in.weight").strides, [27, 9, 3, 1])
        for entry in checkpoint.tensors.values {
            XCTAssertTrue(entry.floats().allSatisfy { $0.isFinite }, entry.name)
        }
    }

    // MARK: - Generated fixtures

    private struct Expected: Decodable {
        struct Weight: Decodable {
            let dtype: String
            let shape: [Int]
            let values: [Double]
        }
        let weights: [String: Weight]?
        let error: String?
    }

    private func expectations() throws -> [String: Expected] {
        let data = try Data(contentsOf: try ptFixtures.appendingPathComponent("expected.json"))
        return try JSONDecoder().decode([String: Expected].self, from: data)
    }

    func testGeneratedFixturesLoadExactly() throws {
        let cases = try expectations().filter { $0.value.weights != nil }
        XCTAssertEqual(Set(cases.keys), ["model_p2.pt", "ema_p4.pt", "dtypes_module.pt", "shared_state_dict.pt",
                                         "bare.pt", "zip64.pt"])
        for (file, expected) in cases {
            let checkpoint = try Checkpoint.open(try ptFixtures.appendingPathComponent(file).path)
            let weights = try XCTUnwrap(expected.weights)
            XCTAssertEqual(Set(checkpoint.names), Set(weights.keys), file)
            for (name, weight) in weights {
                let entry = try checkpoint.entry(name)
                XCTAssertEqual(entry.dtype.rawValue, weight.dtype, "\(file) \(name)")
                XCTAssertEqual(entry.shape, weight.shape, "\(file) \(name)")
                XCTAssertEqual(entry.floats(), weight.values.map { Float($0) }, "\(file) \(name)")
            }
        }
    }

    func testEMAWinsOverModel() throws {
        let checkpoint = try Checkpoint.open(try ptFixtures.appendingPathComponent("ema_p4.pt").path)
        let ema = try XCTUnwrap(try expectations()["ema_p4.pt"]?.weights?["norm.weight"])
        XCTAssertEqual(try checkpoint.floats("norm.weight", shape: [4]), ema.values.map { Float($0) })
    }

    func testSharedStorageViews() throws {
        let checkpoint = try Checkpoint.open(try ptFixtures.appendingPathComponent("shared_state_dict.pt").path)
        let a = try checkpoint.entry("a.weight"), b = try checkpoint.entry("b.weight")
        XCTAssertEqual(a.offset, 2)
        XCTAssertTrue(a.isContiguous)
        XCTAssertEqual(b.offset, 8)
        XCTAssertEqual(b.strides, [1, 4])
        XCTAssertFalse(b.isContiguous)
        XCTAssertNil(b.contiguousFloat32)
        XCTAssertEqual(a.storage.baseAddress, b.storage.baseAddress, "views of one storage share its bytes")
        XCTAssertNil(checkpoint.tensors["not_a_tensor"])
    }

    func testBrokenFixturesThrowOneLineErrors() throws {
        let cases = try expectations().compactMap { file, e in e.error.map { (file, $0) } }
        XCTAssertEqual(Set(cases.map(\.0)), ["no_tensors.pt", "truncated.pt", "short_storage.pt", "garbage_pkl.pt",
                                             "compressed.pt"])
        for (file, message) in cases {
            let path = try ptFixtures.appendingPathComponent(file).path
            XCTAssertThrowsError(try Checkpoint.open(path), file) { error in
                guard let error = error as? CheckpointError else { return XCTFail("\(file): \(error)") }
                XCTAssertEqual(error.file, path)
                XCTAssertTrue(error.description.contains(message), "\(file): \(error)")
                XCTAssertFalse(error.description.contains("\n"), "\(file): \(error)")
            }
        }
    }

    // MARK: - Robustness

    /// Every prefix of a valid file, and files with bytes of their pickle or directory changed, load or
    /// throw `CheckpointError`; none traps.
    func testTruncatedAndCorruptedFilesNeverCrash() throws {
        let original = try Data(contentsOf: try ptFixtures.appendingPathComponent("model_p2.pt"))
        let path = try temporaryDirectory().appendingPathComponent("damaged.pt").path
        func attempt(_ data: Data) throws {
            // Plain open/write: Data.write is slow enough here to dominate the test.
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            XCTAssertGreaterThanOrEqual(fd, 0)
            let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            XCTAssertEqual(written, data.count)
            do { _ = try Checkpoint.open(path) } catch is CheckpointError {}
        }
        for length in stride(from: 0, to: original.count, by: 7) {
            try attempt(original.prefix(length))
        }
        var rng = SplitMix(seed: 42)
        let pickleRange = 64..<1400  // data.pkl starts at 64; the tail holds the central directory
        let tailRange = (original.count - 400)..<original.count
        for round in 0..<400 {
            var data = original
            for _ in 0..<(1 + round % 3) {
                let range = round % 2 == 0 ? pickleRange : tailRange
                data[range.lowerBound + Int(rng.next() % UInt64(range.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            try attempt(data)
        }
    }

    private func unpickle(_ bytes: [UInt8]) throws -> PickleValue {
        try bytes.withUnsafeBytes { buffer in
            var unpickler = Unpickler(buffer, path: "x.pt", entry: "x/data.pkl")
            return try unpickler.load()
        }
    }

    func testMalformedPicklesThrow() {
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "truncated"),
            ("stop on empty stack", [0x80, 0x02, 0x2e], "stack underflow"),
            ("bad memo index", [0x80, 0x02, 0x68, 0x05, 0x2e], "memo index 5"),
            ("huge unicode length", [0x58, 0xff, 0xff, 0xff, 0x7f, 0x41], "truncated"),
            ("negative LONG4 length", [0x8b, 0xff, 0xff, 0xff, 0xff, 0x2e], "truncated"),
            ("huge BINUNICODE8 length", [0x8d] + [UInt8](repeating: 0xff, count: 8), "truncated"),
            ("unknown opcode", [0x80, 0x02, 0x49, 0x31, 0x0a, 0x2e], "unsupported pickle opcode 0x49 ('I')"),
            ("SETITEMS without MARK", [0x7d, 0x75, 0x2e], "MARK missing"),
            ("pop past MARK", [0x7d, 0x28, 0x73, 0x2e], "stack underflow"),
            ("SETITEM on an int", [0x4b, 0x01, 0x4b, 0x02, 0x4b, 0x03, 0x73, 0x2e], "cannot set items on int"),
            ("GLOBAL without newline", [0x63, 0x61, 0x62], "truncated in GLOBAL"),
            ("protocol 6", [0x80, 0x06, 0x4e, 0x2e], "unsupported pickle protocol 6"),
            ("os.system", Array("cos\nsystem\n".utf8), "the pickle names 'os.system'"),
            ("STACK_GLOBAL builtins.eval", [0x8c, 8] + Array("builtins".utf8) + [0x8c, 4] + Array("eval".utf8) + [0x93, 0x2e], "'builtins.eval'"),
            ("control characters in a global", Array("cos\u{1b}[2J\nsystem\n".utf8), "'os\\u{1b}[2J.system'"),
            ("tensor without storage", Array("ctorch._utils\n_rebuild_tensor_v2\n(K\u{0}K\u{0}))tR.".utf8),
             "malformed arguments to torch._utils._rebuild_tensor_v2"),
        ]
        for (label, bytes, message) in cases {
            XCTAssertThrowsError(try unpickle(bytes), label) { error in
                let text = (error as? CheckpointError)?.description ?? "\(error)"
                XCTAssertTrue(text.hasPrefix("x.pt: x/data.pkl: "), "\(label): \(text)")
                XCTAssertTrue(text.contains(message), "\(label): \(text)")
            }
        }
    }

    func testPickleValues() throws {
        // LONG1 of 2^70 (too wide), LONG1 of -2^40, BINFLOAT 1.5, opaque REDUCE of a global not interpreted.
        let bytes: [UInt8] = [0x80, 0x02, 0x28,
                              0x8a, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x40,
                              0x8a, 0x06, 0, 0, 0, 0, 0, 0xff,
                              0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]
            + Array("cargparse\nNamespace\nX\u{2}\u{0}\u{0}\u{0}rm".utf8) + [0x85, 0x52, 0x74, 0x2e]
        let (value, unpickler) = try bytes.withUnsafeBytes { buffer -> (PickleValue, Unpickler) in
            var unpickler = Unpickler(buffer, path: "x.pt", entry: "x/data.pkl")
            return (try unpickler.load(), unpickler)
        }
        guard case let .tuple(t) = value else { return XCTFail("\(value)") }
        let items = unpickler.tuples[t]
        guard items.count == 4, case .bigInt = items[0], case .int(-(1 << 40)) = items[1], case .float(1.5) = items[2],
              case .opaque("result of argparse.Namespace") = items[3] else { return XCTFail("\(items)") }
    }

    // MARK: - Safetensors writer

    func testSafetensorsWriterRoundTrip() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("w.safetensors").path
        let tensors: [(name: String, shape: [Int], data: [Float])] = [
            ("layers.0/w", [2, 3], [1, -2, 3.5, .pi, -0, 1e-30]),
            ("scalar", [], [7]),
            ("empty", [0, 4], []),
        ]
        try SafetensorsWriter.write(tensors, to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(headerLength % 8, 0)
        XCTAssertEqual(bytes.count, 8 + headerLength + 4 * 7)
        let checkpoint = try Checkpoint.open(path)
        for t in tensors {
            XCTAssertEqual(try checkpoint.floats(t.name, shape: t.shape), t.data, t.name)
            XCTAssertEqual(try checkpoint.entry(t.name).dtype, .float32)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["w.safetensors"])
    }

    func testSafetensorsWriterRejectsBadInput() throws {
        let path = try temporaryDirectory().appendingPathComponent("bad.safetensors").path
        XCTAssertThrowsError(try SafetensorsWriter.write([("w", [2, 2], [1, 2, 3])], to: path)) { error in
            XCTAssertTrue("\(error)".contains("tensor 'w'"), "\(error)")
        }
        XCTAssertThrowsError(try SafetensorsWriter.write([("w", [1], [1]), ("w", [1], [2])], to: path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}

/// A small deterministic generator for the corruption test.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
