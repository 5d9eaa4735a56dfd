import Foundation
import XCTest
@testable import ZipAR

/// Malformed files from strangers: every one is a one-line error naming the file, never a trap, an
/// allocation of what a header merely claims, or raw file bytes in the message.
final class HardeningTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("zipar-hardening-\(UUID())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    /// Writes `bytes` to `name` in the work folder and returns its path.
    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = work.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// A safetensors file with header `json` and `data` bytes after it.
    func safetensors(_ json: String, data: Int = 0) throws -> String {
        let header = Array(json.utf8)
        let length = (0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) }
        return try file("t.safetensors", length + header + [UInt8](repeating: 0, count: data))
    }

    /// Asserts `body` throws a one-line error that contains every one of `fragments`.
    func assertRefused(_ fragments: String..., line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), line: line) { error in
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), text, line: line)
            for f in fragments { XCTAssertTrue(text.contains(f), "\(text) lacks \(f)", line: line) }
        }
    }

    func testQuotedEscapesAndLimits() {
        XCTAssertEqual(quoted("a\u{0}b\u{1b}[31m\n'\\"), #"'a\u{0}b\u{1b}[31m\n\'\\'"#)
        XCTAssertEqual(quoted("\u{202e}é 東"), #"'\u{202e}é 東'"#)
        XCTAssertEqual(quoted(String(repeating: "x", count: 100), limit: 5), "'xxxxx…'")
    }

    // MARK: - JSON

    func testDeepJSONIsRefusedBeforeFoundationParsesIt() throws {
        for depth in [65, 513, 100_000] {
            let text = String(repeating: "[", count: depth)
            let config = work.appendingPathComponent("config.json")
            try Data(text.utf8).write(to: config)
            assertRefused("config.json", "nests deeper than 64") { _ = try ModelFiles.config(GPTConfig.self, in: work.path) }
            let path = try safetensors(text)
            assertRefused("t.safetensors", "nests deeper") { _ = try Checkpoint.open(path) }
        }
    }

    func testDuplicateKeysAreRefused() throws {
        try Data(#"{"dim": 8, "n_layer": 1, "di\u006d": 16}"#.utf8).write(to: work.appendingPathComponent("config.json"))
        assertRefused("config.json", "key 'dim' appears twice") { _ = try ModelFiles.config(GPTConfig.self, in: work.path) }
        let entry = #"{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}"#
        let path = try safetensors(#"{"w": \#(entry), "w": \#(entry)}"#, data: 4)
        assertRefused("t.safetensors", "key 'w' appears twice") { _ = try Checkpoint.open(path) }
        // The same key in different objects, and in arrays, is fine.
        try JSONInput.check(UnsafeRawBufferPointer(start: nil, count: 0), file: "x")
        let ok = Array(#"{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}], "c": "a\"a"}"#.utf8)
        try ok.withUnsafeBytes { try JSONInput.check($0, file: "x") }
    }

    // MARK: - Safetensors

    func testSafetensorsClaimsAreCheckedAgainstTheFile() throws {
        let cases: [(String, String)] = [
            (#"{"w": {"dtype": "F32", "shape": [1000000000], "data_offsets": [0, 4]}}"#, "[1000000000] F32 reads past its data (4 bytes)"),
            (#"{"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 4]}}"#, "too large"),
            (#"{"w": {"dtype": "F64", "shape": [2305843009213693952], "data_offsets": [0, 0]}}"#, "reads past"),
            (#"{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, "malformed header entry"),
            (#"{"w": {"dtype": "F32", "shape": [1e30], "data_offsets": [0, 4]}}"#, "malformed header entry"),
            (#"{"w": {"dtype": "F32", "shape": [], "data_offsets": [0, 18446744073709551615]}}"#, "malformed header entry"),
            (#"{"w": {"dtype": "F32", "shape": [\#(Array(repeating: "1", count: 65).joined(separator: ","))], "data_offsets": [0, 4]}}"#, "65 dimensions"),
            (#"{"w\u001b[2J": {"dtype": "X\u0000", "shape": [1], "data_offsets": [0, 4]}}"#, #"'w\u{1b}[2J': unsupported dtype 'X\u{0}'"#),
        ]
        for (json, message) in cases {
            let path = try safetensors(json, data: 4)
            assertRefused("t.safetensors", message) { _ = try Checkpoint.open(path) }
        }
        let huge = try file("h.safetensors", [0x00, 0xe2, 0xf5, 0x05, 0, 0, 0, 0] + Array("{}".utf8))
        assertRefused("h.safetensors", "header of 100000256 bytes is larger") { _ = try Checkpoint.open(huge) }
    }

    // MARK: - .pt archives

    var pt: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("pt") }

    /// bare.pt with the byte at `offset` of member `member` flipped.
    func corrupted(_ member: String) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: pt.appendingPathComponent("bare.pt")))
        let archive = try ZipArchive(MappedFile(path: pt.appendingPathComponent("bare.pt").path))
        let entry = try XCTUnwrap(archive.entries.first { $0.name.hasSuffix(member) })
        bytes[entry.dataOffset + entry.size / 2] ^= 0x01
        return try file("corrupt.pt", bytes)
    }

    func testPickleCRCIsChecked() throws {
        let path = try corrupted("data.pkl")
        assertRefused("corrupt.pt", "data.pkl' fails its CRC-32 check") { _ = try Checkpoint.open(path) }
    }

    func testStorageCRCIsCheckedOnRequest() throws {
        let path = try corrupted("data/0")
        XCTAssertNoThrow(try Checkpoint.open(path))
        assertRefused("corrupt.pt", "data/0' fails its CRC-32 check") { _ = try Checkpoint.open(path, verify: true) }
        XCTAssertNoThrow(try Checkpoint.open(pt.appendingPathComponent("bare.pt").path, verify: true))
    }

    // MARK: - Configs and token files

    func config(_ json: String) throws -> String {
        try Data(json.utf8).write(to: work.appendingPathComponent("config.json"))
        return work.appendingPathComponent("config.json").path
    }

    func testGPTConfigSizesAreBounded() throws {
        let cases: [(String, String)] = [
            (#"{"block_size": 1048576}"#, "block_size 1048576"),
            (#"{"block_size": 9223372036854775807}"#, "block_size"),
            (#"{"n_layer": 1000000000000}"#, "n_layer 1000000000000"),
            (#"{"dim": 4611686018427387904, "n_head": 1}"#, "dim 4611686018427387904"),
            (#"{"ffn_dim_multiplier": 1e300}"#, "ffn_dim_multiplier"),
            (#"{"vocab_size": 16777216, "dim": 65536, "n_head": 64}"#, "GiB of memory"),
            (#"{"dim": 1e400}"#, "config.json"),
        ]
        for (json, message) in cases {
            let path = try config(json)
            assertRefused("config.json", message) {
                try ModelFiles.config(GPTConfig.self, in: work.path).validate(file: path)
            }
        }
    }

    func testJanusGridIsBoundedBeforeItIsSquared() throws {
        _ = try config(#"{"model_type": "janus", "text_config": {}, "vision_config": {"image_size": 9223372036854775807, "patch_size": 1, "num_image_tokens": 1}}"#)
        assertRefused("config.json", "tokens per side") { _ = try JanusConfig.read(directory: work.path) }
        _ = try config(#"{"model_type": "janus", "text_config": {"num_hidden_layers": 100000000}}"#)
        assertRefused("config.json", "out of range") { _ = try JanusConfig.read(directory: work.path) }
    }

    func testTokenFileGridOverflowIsRefused() throws {
        let path = try file("t.json", Array(#"{"height": 4294967296, "width": 4294967296, "tokens": []}"#.utf8))
        assertRefused("t.json", "0 tokens for a 4294967296×4294967296 grid") { _ = try TokenFile.read(path) }
        let empty = try file("e.json", [])
        assertRefused("e.json", "not a token file") { _ = try TokenFile.read(empty) }
    }

    func testPNGChunkNamesAreQuoted() throws {
        var bytes = PNG.signature + [0, 0, 0, 0] + Array("\u{1b}HDR".utf8) + [0, 0, 0, 0]
        bytes += [0, 0, 0, 0]
        assertRefused(#"CRC mismatch in '\u{1b}HDR' chunk"#) { _ = try PNG.decode(bytes, path: "x.png") }
    }
}
