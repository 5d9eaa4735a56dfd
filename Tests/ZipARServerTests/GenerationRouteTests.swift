import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
import ZipAR
@testable import ZipARServer

/// `POST /v1/images/generations` on the real glyph model: the CLI's image, batching that changes nothing.
final class GenerationRouteTests: XCTestCase {
    /// The built `zipar` executable, beside the test bundle.
    var executable: URL {
        var dir = Bundle(for: GenerationRouteTests.self).bundleURL
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("zipar").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("zipar")
    }

    func testImageEqualsTheCommandLinesForTheSameSeed() async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("zipar-serve-\(UUID()).png")
        defer { try? FileManager.default.removeItem(at: out) }
        let p = Process()
        p.executableURL = executable
        p.arguments = ["generate", "--class-label", "Q", "--seed", "7", "--schedule", "zipar", "--window", "2", "--output", out.path, "--quiet"]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let cli = try Data(contentsOf: out)

        let engine = GenerationEngine(model: GlyphModel.served, limits: .init(parallel: 4, maxQueue: 8))
        try await makeApp(engine: engine).test(.live) { client in
            let response = try await client.post(#"{"model":"zipar-glyphs","prompt":"Q","seed":7,"schedule":"zipar","window":2,"size":"48x48","response_format":"b64_json","output_format":"png"}"#)
            XCTAssertEqual(response.status, .ok)
            XCTAssertEqual(response.images, [cli])
            XCTAssertEqual(response.json["size"] as? String, "48x48")
            let info = (response.json["zipar"] as? [[String: Any]])?.first
            XCTAssertEqual(info?["seed"] as? Int, 7)
            XCTAssertNotNil(try? readPNGBytes(response.images.first ?? Data()))
        }
    }

    func testBatchedAndConcurrentImagesEqualSoloRuns() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init(parallel: 4, maxQueue: 32))
        let spec = ScheduleSpec.make(nameOrFail: "zipar", window: 2)
        let sampling = GlyphModel.served.loaded.sampling
        @Sendable func options(_ label: String, seed: UInt64) throws -> GenerationOptions {
            GenerationOptions(condition: try GlyphModel.served.condition(for: label), cfgScale: sampling.cfgScale,
                              sampling: sampling.options, seed: seed)
        }
        try await makeApp(engine: engine).test(.live) { client in
            // n = 4 in one request: one batch of four, seeds 11…14.
            let batched = try await client.post(#"{"prompt":"A","n":4,"seed":11,"schedule":"zipar","window":2}"#)
            XCTAssertEqual(batched.status, .ok)
            XCTAssertEqual((batched.json["zipar"] as? [[String: Any]])?.compactMap { $0["batch_size"] as? Int }, [4, 4, 4, 4])
            XCTAssertEqual(batched.images, try (11...14).map { try soloPNG(options("A", seed: $0), schedule: spec) })
        }
        // Six requests at once on a live server: whatever batches they land in, each is its solo image.
        let labels = ["0", "7", "K", "Z", "3", "Q"]
        let concurrent = GenerationEngine(model: GlyphModel.served, limits: .init(parallel: 4, maxQueue: 32))
        try await makeApp(engine: concurrent).test(.ahc(.http)) { client in
            let pngs = try await withThrowingTaskGroup(of: (Int, [Data]).self) { group in
                for (i, label) in labels.enumerated() {
                    group.addTask {
                        let r = try await client.post(#"{"prompt":"\#(label)","seed":\#(100 + i),"schedule":"zipar","window":2}"#)
                        XCTAssertEqual(r.status, .ok)
                        return (i, r.images)
                    }
                }
                var all = [[Data]](repeating: [], count: labels.count)
                for try await (i, images) in group { all[i] = images }
                return all
            }
            for (i, label) in labels.enumerated() {
                XCTAssertEqual(pngs[i], [try soloPNG(options(label, seed: UInt64(100 + i)), schedule: spec)], "label \(label)")
            }
        }
        let load = await concurrent.load
        XCTAssertEqual(load.waiting + load.running, 0)
    }

    /// After the server shuts down gracefully the engine has drained and refuses new work.
    func testEngineRefusesWorkAfterDrain() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init())
        try await makeApp(engine: engine).test(.live) { client in
            let response = try await client.post(#"{"prompt":"5","seed":1}"#)
            XCTAssertEqual(response.status, .ok)
        }
        let accepting = await engine.isAccepting
        XCTAssertFalse(accepting)
        let job = ImageJob(options: GenerationOptions(classLabel: 5), schedule: .make(nameOrFail: "raster"))
        do {
            _ = try await engine.submit([job])
            XCTFail("a drained engine took work")
        } catch let error as EngineError {
            XCTAssertEqual(error, .draining)
        }
    }

    func testModelsAndProbes() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init())
        try await makeApp(engine: engine).test(.live) { client in
            let models = try await client.execute(uri: "/v1/models", method: .get)
            XCTAssertEqual(models.status, .ok)
            XCTAssertEqual(models.json["object"] as? String, "list")
            let entry = (models.json["data"] as? [[String: Any]])?.first
            XCTAssertEqual(entry?["id"] as? String, "zipar-glyphs")
            XCTAssertEqual(entry?["object"] as? String, "model")
            let health = try await client.execute(uri: "/health", method: .get)
            XCTAssertEqual(health.status, .ok)
            let ready = try await client.execute(uri: "/ready", method: .get)
            XCTAssertEqual(ready.status, .ok)
        }
    }
}

/// Reads PNG bytes through the library's decoder (via a file: it reads paths).
func readPNGBytes(_ data: Data) throws -> RGBImage {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("zipar-png-\(UUID()).png")
    defer { try? FileManager.default.removeItem(at: url) }
    try data.write(to: url)
    return try readPNG(url.path)
}

extension ScheduleSpec {
    /// A schedule for the glyph model's 3-wide grid (the test's names are valid).
    static func make(nameOrFail name: String, window: Int? = nil) -> ScheduleSpec {
        try! ScheduleSpec.make(name: name, width: GlyphModel.served.loaded.model.gridWidth, window: window)
    }
}
