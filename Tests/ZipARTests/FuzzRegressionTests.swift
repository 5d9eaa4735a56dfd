import Foundation
import XCTest
@testable import ZipAR

/// Every input under Fixtures/fuzz/<target>/ once crashed, hung or over-allocated a parser, or is a case
/// a fuzz target must refuse (see docs/reliability.md). Each must now be a one-line error that names the
/// file. The config inputs are named after what reads them: gpt-, janus-, generation-.
final class FuzzRegressionTests: XCTestCase {
    var root: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("fuzz") }

    /// The inputs of `target`, each copied to a fresh folder as `name` (or under its own name).
    func inputs(_ target: String, as name: String? = nil) throws -> [(String, String)] {
        let dir = root.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertFalse(names.isEmpty, target)
        return try names.map { input in
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("zipar-fuzz-\(UUID())")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            addTeardownBlock { try? FileManager.default.removeItem(at: work) }
            let path = work.appendingPathComponent(name ?? input).path
            try FileManager.default.copyItem(atPath: dir.appendingPathComponent(input).path, toPath: path)
            return (input, path)
        }
    }

    func assertRefused(_ input: String, _ path: String, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), input) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(path) || text.hasPrefix((path as NSString).deletingLastPathComponent), "\(input): \(text)")
            XCTAssertFalse(text.contains("\n") || text.contains("\u{0}") || text.contains("\u{1b}"), "\(input): \(text)")
        }
    }

    func testSafetensors() throws {
        for (input, path) in try inputs("safetensors") { assertRefused(input, path) { _ = try Checkpoint.open(path) } }
    }

    func testZip() throws {
        for (input, path) in try inputs("zip") { assertRefused(input, path) { _ = try Checkpoint.open(path) } }
    }

    func testPickle() throws {
        for (input, path) in try inputs("pickle") {
            assertRefused(input, path) {
                let file = try MappedFile(path: path)
                var unpickler = Unpickler(file.bytes, path: path, entry: "archive/data.pkl")
                _ = try withExtendedLifetime(file) { try unpickler.load() }
            }
        }
    }

    func testConfig() throws {
        for (input, path) in try inputs("config", as: "config.json") {
            let dir = (path as NSString).deletingLastPathComponent
            assertRefused(input, path) {
                if input.hasPrefix("gpt-") { try ModelFiles.config(GPTConfig.self, in: dir).validate(file: path) }
                if input.hasPrefix("janus-") { _ = try JanusConfig.read(directory: dir) }
                if input.hasPrefix("generation-") { try ModelFiles.decodeJSON(GenerationConfig.self, at: path).validate(file: path) }
            }
        }
    }

    func testTokens() throws {
        for (input, path) in try inputs("tokens") { assertRefused(input, path) { _ = try TokenFile.read(path) } }
    }

    func testTokenizer() throws {
        for (input, path) in try inputs("tokenizer") { assertRefused(input, path) { _ = try BPETokenizer(contentsOf: path) } }
    }
}
