import Foundation
import XCTest
@testable import ZipAR

/// Parity with the `tokenizers` library (fixtures from tools/janus/make_tokenizer_fixture.py) and the errors
/// for bad tokenizer.json files.
final class TokenizerTests: XCTestCase {
    private struct Cases: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int]
        }
        let cases: [Case]
    }

    private static var folder: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("tokenizer")
    }

    private func checkParity(_ prefix: String, minimumCases: Int) throws {
        let tokenizer = try BPETokenizer(contentsOf: Self.folder.appendingPathComponent("\(prefix)tokenizer.json").path)
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("\(prefix)cases.json"))
        let cases = try JSONDecoder().decode(Cases.self, from: data).cases
        XCTAssertGreaterThanOrEqual(cases.count, minimumCases)
        let start = Date()
        var mismatches = 0
        for item in cases {
            let got = tokenizer.encode(item.text)
            if got != item.ids {
                if mismatches == 0 {
                    XCTFail("\(prefix)tokenizer: text \(item.text.debugDescription)\nexpected \(item.ids)\ngot      \(got)")
                }
                mismatches += 1
            }
        }
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(mismatches, 0, "\(mismatches) of \(cases.count) strings differ")
        print("\(prefix)tokenizer parity: \(cases.count - mismatches)/\(cases.count), "
              + "\(Int(Double(cases.count) / seconds)) strings/s")
    }

    func testJanusParity() throws { try checkParity("", minimumCases: 2000) }

    func testVariantParity() throws { try checkParity("variant_", minimumCases: 500) }

    func testJanusSpecialTokens() throws {
        let tokenizer = try BPETokenizer(contentsOf: Self.folder.appendingPathComponent("tokenizer.json").path)
        let bos = try XCTUnwrap(tokenizer.id(of: "<｜begin▁of▁sentence｜>"))
        XCTAssertEqual(tokenizer.bosID, bos)
        let boi = try XCTUnwrap(tokenizer.id(of: "<begin_of_image>"))
        XCTAssertNotNil(tokenizer.id(of: "<｜▁pad▁｜>"))
        XCTAssertNil(tokenizer.id(of: "<begin_of_imag"))
        XCTAssertEqual(tokenizer.vocabularySize, bos + 8)
        let prompt = "<|User|>: a red fox\n\n<|Assistant|>:<begin_of_image>"
        let ids = tokenizer.encode(prompt)
        XCTAssertEqual(ids.first, bos)
        XCTAssertEqual(ids.last, boi)
        XCTAssertEqual(tokenizer.encode(prompt, addSpecialTokens: false), Array(ids.dropFirst()))
    }

    // MARK: bad files

    private func badFile(_ name: String, _ contents: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("zipar-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent(name)
        try contents.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    private func assertError(_ contents: String, contains expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try badFile("tokenizer.json", contents)
        XCTAssertThrowsError(try BPETokenizer(contentsOf: path), file: file, line: line) { error in
            guard let error = error as? TokenizerError else { return XCTFail("not a TokenizerError: \(error)", file: file, line: line) }
            XCTAssertEqual(error.file, path, file: file, line: line)
            XCTAssertTrue(error.message.contains(expected), "\(error.message) lacks \(expected)", file: file, line: line)
        }
    }

    private let byteLevel = #"{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#

    func testUnknownModelType() throws {
        try assertError(#"{"pre_tokenizer": \#(byteLevel), "model": {"type": "Unigram", "vocab": [["a", 0.0]]}}"#,
                        contains: "unknown model type 'Unigram'")
    }

    func testMissingMerges() throws {
        try assertError(#"{"pre_tokenizer": \#(byteLevel), "model": {"type": "BPE", "vocab": {"a": 0}}}"#,
                        contains: "missing 'merges' (at 'model')")
    }

    func testNotJSON() throws {
        try assertError("this is not { json", contains: "not valid JSON")
    }

    func testMissingFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zipar-no-such-\(UUID().uuidString).json").path
        XCTAssertThrowsError(try BPETokenizer(contentsOf: path)) { error in
            XCTAssertEqual((error as? TokenizerError)?.file, path)
        }
    }

    func testMergeOutsideVocab() throws {
        try assertError(#"{"pre_tokenizer": \#(byteLevel), "model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}"#,
                        contains: "not in the vocab")
    }

    func testUnsupportedPreTokenizer() throws {
        try assertError(#"{"pre_tokenizer": {"type": "Metaspace"}, "model": {"type": "BPE", "vocab": {}, "merges": []}}"#,
                        contains: "unsupported pre_tokenizer type 'Metaspace'")
    }

    func testNoByteLevel() throws {
        try assertError(#"{"pre_tokenizer": null, "model": {"type": "BPE", "vocab": {}, "merges": []}}"#,
                        contains: "must end with a ByteLevel step")
    }

    func testByteFallback() throws {
        try assertError(#"{"pre_tokenizer": \#(byteLevel), "model": {"type": "BPE", "vocab": {}, "merges": [], "byte_fallback": true}}"#,
                        contains: "byte_fallback")
    }

    /// Oniguruma's `\s` includes U+000B and U+0085, which ICU's lacks; `$` ends a line only at "\n".
    func testOnigurumaRewrite() throws {
        let regex = try NSRegularExpression(pattern: OnigurumaPattern.icu(#"^\s+$"#))
        for text in ["\u{0B}", "\u{85}", " \t", "\u{3000}"] {
            XCTAssertEqual(regex.numberOfMatches(in: text, range: NSRange(location: 0, length: text.utf16.count)), 1, text.debugDescription)
        }
        let lines = "a\n  \nb"
        XCTAssertEqual(regex.firstMatch(in: lines, range: NSRange(location: 0, length: lines.utf16.count))?.range, NSRange(location: 2, length: 2))
    }
}
