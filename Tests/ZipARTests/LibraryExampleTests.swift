import Foundation
import XCTest
import ZipAR

/// The README's "As a library" example, line for line but for the paths, so it stays true.
final class LibraryExampleTests: XCTestCase {
    func testTheReadmeExampleRuns() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("Sources/zipar/DefaultModel").path
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID().uuidString).png").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        var passes = 0

        let gpt = try ModelFiles.loadGPT(directory: folder + "/gpt")
        let vq = try ModelFiles.loadVQ(directory: folder + "/vq")
        let generator = ImageGenerator(model: gpt)
        let schedule = ZipARReferenceSchedule(layout: generator.layout, window: 6)
        let options = GenerationOptions(classLabel: gpt.config.classIndex("Q")!, cfgScale: 2, seed: 4)
        for try await event in generator.events(schedule: schedule, options: options) {
            switch event {
            case .progress(let p): passes = p.pass  // print("pass \(p.pass): \(p.tokensDone)/\(p.tokensTotal) tokens")
            case .finished(let r): try writePNG(try vq.decode(tokens: r.tokens, height: r.height, width: r.width).rgbImage(), to: output)
            }
        }

        XCTAssertTrue(FileManager.default.fileExists(atPath: output))
        XCTAssertGreaterThan(passes, 12)
        XCTAssertLessThan(passes, 144, "a 12×12 grid in fewer passes than tokens")
    }
}
