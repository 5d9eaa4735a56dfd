import Foundation
import XCTest
import ZipAR
@testable import ZipARServer

/// The engine's continuous batching: an image submitted while another runs joins its batch at a pass
/// boundary instead of waiting for it to finish, and both are their solo images.
final class ContinuousBatchingTests: XCTestCase {
    func testImageJoinsARunningBatch() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init(parallel: 2, maxQueue: 8))
        // The generation thread stops after the long image's 10th pass until the short image is queued.
        let reached = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0)
        engine.loop.afterPass = { pass in
            guard pass == 10 else { return }
            reached.signal()
            go.wait()
        }
        let service = Task { try await engine.run() }
        defer { service.cancel() }
        let sampling = GlyphModel.served.loaded.sampling
        func job(_ label: String, seed: UInt64, schedule: ScheduleSpec) throws -> ImageJob {
            ImageJob(options: GenerationOptions(condition: try GlyphModel.served.condition(for: label), cfgScale: sampling.cfgScale,
                                                sampling: sampling.options, seed: seed), schedule: schedule)
        }
        let long = try job("W", seed: 3, schedule: .raster), short = try job("J", seed: 5, schedule: .make(nameOrFail: "zipar", window: 2))
        let first = try await engine.submit([long])[0]
        await Task.detached { reached.wait() }.value
        let running = await engine.load.running
        XCTAssertEqual(running, 1)
        let second = try await engine.submit([short])[0]
        go.signal()
        func completed(_ stream: AsyncThrowingStream<ImageEvent, Error>) async throws -> GeneratedImage? {
            var image: GeneratedImage?
            for try await event in stream { if case .completed(let done) = event { image = done } }
            return image
        }
        let joined = try await completed(second), finished = try await completed(first)
        XCTAssertEqual(joined?.batchSize, 2, "it shared passes with the running image")
        XCTAssertEqual(finished?.batchSize, 2)
        XCTAssertEqual(joined?.stats.forward_passes, 12 + 11 * 2)
        XCTAssertEqual(joined.map { Data($0.png) }, try soloPNG(short.options, schedule: short.schedule))
        XCTAssertEqual(finished.map { Data($0.png) }, try soloPNG(long.options, schedule: long.schedule))
    }
}
