import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import XCTest
import ZipAR
@testable import ZipARServer

/// What an operator relies on: `/metrics`, per-request deadlines, CORS, clients that pipeline or hang up.
final class OperationsTests: XCTestCase {
    func testMetricsCountRequestsPassesAndImages() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init())
        try await makeApp(engine: engine, configuration: ServerConfiguration(port: 0, apiKey: "k")).test(.ahc(.http)) { client in
            let auth: HTTPFields = [.authorization: "Bearer k"]
            let image = try await client.post(#"{"prompt":"Q","seed":1}"#, headers: auth)
            XCTAssertEqual(image.status, .ok)
            let passes = ((image.json["zipar"] as? [[String: Any]])?.first?["passes"] as? Int) ?? 0
            XCTAssertGreaterThan(passes, 0)
            let bad = try await client.post(#"{"prompt":"Q","n":0}"#, headers: auth)
            XCTAssertEqual(bad.status, .badRequest)
            // Public, like the probes, so a scraper needs no key.
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            XCTAssertEqual(metrics.status, .ok)
            XCTAssertEqual(metrics.headers[.contentType]?.hasPrefix("text/plain"), true)
            let text = String(buffer: metrics.body)
            let route = "/v1/images/generations"
            XCTAssertEqual(sample(text, "zipar_http_requests_total", [("route", route), ("status", "200")]), 1, text)
            XCTAssertEqual(sample(text, "zipar_http_requests_total", [("route", route), ("status", "400")]), 1, text)
            XCTAssertEqual(sample(text, "zipar_images_total", [("outcome", "completed")]), 1, text)
            XCTAssertEqual(sample(text, "zipar_images_total", [("outcome", "expired")]), 0, text)
            XCTAssertEqual(sample(text, "zipar_pass_seconds_count"), Double(passes), text)
            XCTAssertEqual(sample(text, "zipar_batch_size_count"), Double(passes), text)
            XCTAssertEqual(sample(text, "zipar_batch_size_sum"), Double(passes), text)  // alone: one image a pass
            XCTAssertEqual(sample(text, "zipar_queue_wait_seconds_count"), 1, text)
            XCTAssertEqual(sample(text, "zipar_image_latency_seconds_count"), 1, text)
            XCTAssertEqual(sample(text, "zipar_images_waiting"), 0, text)
            XCTAssertEqual(sample(text, "zipar_images_running"), 0, text)
            XCTAssertTrue(text.contains("# TYPE zipar_pass_seconds histogram"), text)
        }
    }

    /// A request's timeout stops its running image at a pass boundary: 504 `deadline_exceeded`, the batch
    /// place is freed, and the next request is served.
    func testARunningImagePastItsTimeoutGets504() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init(parallel: 1))
        let slow = SlowPasses()
        engine.loop.afterPass = { _ in slow.wait() }
        try await makeApp(engine: engine).test(.ahc(.http)) { client in
            let started = Date()
            let expired = try await client.post(#"{"prompt":"Q","seed":1,"timeout":0.3}"#)
            XCTAssertEqual(expired.status, .gatewayTimeout)
            XCTAssertEqual(expired.error["code"] as? String, "deadline_exceeded")
            XCTAssertEqual(expired.error["param"] as? String, "timeout")
            XCTAssertLessThan(Date().timeIntervalSince(started), 5)  // not the whole image (144 passes × 20 ms)
            slow.off()
            let served = try await client.post(#"{"prompt":"Q","seed":1}"#)
            XCTAssertEqual(served.status, .ok)
            let load = await engine.load
            XCTAssertEqual(load.running, 0)
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            XCTAssertEqual(sample(text, "zipar_images_total", [("outcome", "expired")]), 1, text)
            XCTAssertEqual(sample(text, "zipar_images_total", [("outcome", "completed")]), 1, text)
        }
    }

    /// The server's --timeout bounds every request's: a longer `timeout` is cut to it, none gets it.
    func testTheServerTimeoutCapsTheRequests() throws {
        for (body, expected) in [(#"{"prompt":"Q","timeout":100}"#, 0.3), (#"{"prompt":"Q"}"#, 0.3), (#"{"prompt":"Q","timeout":0.1}"#, 0.1)] {
            let plan = try ImagesRequest.decode(Array(body.utf8)).plan(for: GlyphModel.served, maxImages: 1, maxSeconds: 0.3)
            XCTAssertEqual(plan.jobs.first?.timeout, expected, body)
        }
        let unlimited = try ImagesRequest.decode(Array(#"{"prompt":"Q"}"#.utf8)).plan(for: GlyphModel.served, maxImages: 1, maxSeconds: nil)
        XCTAssertNil(unlimited.jobs.first?.timeout)
    }

    /// A request's own `timeout` ends it while it still waits for a place, and on an event stream the
    /// deadline is an `error` event; the image ahead of it is unaffected.
    func testAWaitingImagePastItsTimeoutLeavesTheQueue() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init(parallel: 1))
        let slow = SlowPasses()
        engine.loop.afterPass = { _ in slow.wait() }
        try await makeApp(engine: engine).test(.ahc(.http)) { client in
            async let first = client.post(#"{"prompt":"A","seed":2}"#)
            try await Task.sleep(nanoseconds: 100_000_000)
            let waiting = try await client.post(#"{"prompt":"B","seed":3,"timeout":0.2}"#)
            XCTAssertEqual(waiting.status, .gatewayTimeout)
            XCTAssertEqual(waiting.error["code"] as? String, "deadline_exceeded")
            let streamed = try await client.post(#"{"prompt":"C","seed":4,"timeout":0.2,"stream":true}"#)
            XCTAssertEqual(streamed.status, .ok)
            let body = String(buffer: streamed.body)
            XCTAssertTrue(body.contains("event: error") && body.contains("deadline_exceeded"), body)
            slow.off()
            let done = try await first
            XCTAssertEqual(done.status, .ok)
            let sampling = GlyphModel.served.loaded.sampling
            let alone = try soloPNG(GenerationOptions(condition: try GlyphModel.served.condition(for: "A"), cfgScale: sampling.cfgScale,
                                                      sampling: sampling.options, seed: 2), schedule: .make(nameOrFail: "raster"))
            XCTAssertEqual(done.images.first, alone)
        }
    }

    /// Two requests pipelined on one connection: the first is answered, with `Connection: close` (the second is
    /// not: the connection is done), and the server lives on.
    func testAPipelinedSecondRequestDoesNotBringTheServerDown() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init())
        try await makeApp(engine: engine).test(.live) { client in
            let one = rawGenerationRequest(#"{"prompt":"Q","seed":1}"#)
            let answer = try rawExchange(port: try XCTUnwrap(client.port), one + one)
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200"), String(answer.prefix(200)))
            XCTAssertTrue(answer.lowercased().contains("connection: close"), String(answer.prefix(400)))
            let health = try await client.execute(uri: "/health", method: .get)
            XCTAssertEqual(health.status, .ok)
        }
    }

    /// A client that closes its connection mid-image cancels it: the image leaves the batch within a pass or
    /// so, counted as cancelled; the request is counted as 499.
    func testAClientThatGoesAwayCancelsItsImage() async throws {
        let metrics = try await hangUpMidImage(#"{"prompt":"Q","seed":1}"#)
        XCTAssertEqual(sample(metrics, "zipar_http_requests_total", [("route", "/v1/images/generations"), ("status", "499")]), 1, metrics)
    }

    /// The same for an event stream, whose headers (200) are out: the gone client fails the next write (a
    /// keep-alive comment here, every 0.1 s), which cancels the image.
    func testAStreamWhoseClientGoesAwayCancelsItsImage() async throws {
        _ = try await hangUpMidImage(#"{"prompt":"Q","seed":1,"stream":true,"partial_images":3}"#, keepAliveSeconds: 0.1)
    }

    /// Sends `json` on a raw socket, closes it once the image runs (passes slowed to 20 ms, so the image alone
    /// would run ≥ 2.9 s), checks that the image stops within 1.5 s, cancelled, and returns /metrics.
    func hangUpMidImage(_ json: String, keepAliveSeconds: Double = 15) async throws -> String {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init(parallel: 1))
        let slow = SlowPasses()
        engine.loop.afterPass = { _ in slow.wait() }
        var configuration = ServerConfiguration(port: 0)
        configuration.keepAliveSeconds = keepAliveSeconds
        return try await makeApp(engine: engine, configuration: configuration).test(.live) { client in
            let fd = try rawSend(port: try XCTUnwrap(client.port), rawGenerationRequest(json))
            func waitFor(_ running: Int) async throws -> Bool {
                for _ in 0..<250 {
                    if await engine.load.running == running { return true }
                    try await Task.sleep(nanoseconds: 20_000_000)
                }
                return false
            }
            let started = try await waitFor(1)
            XCTAssertTrue(started)
            close(fd)
            let left = Date()
            let stopped = try await waitFor(0)
            XCTAssertTrue(stopped)
            XCTAssertLessThan(Date().timeIntervalSince(left), 1.5)
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            XCTAssertEqual(sample(text, "zipar_images_total", [("outcome", "cancelled")]), 1, text)
            XCTAssertEqual(sample(text, "zipar_images_total", [("outcome", "completed")]), 0, text)
            return text
        }
    }

    /// SIGTERM's graceful shutdown: with no time limit a running image and a running job finish; with a limit
    /// past which they would run, the image stops at a pass boundary (its stream fails) and the job goes back
    /// in the queue, stored for the next start.
    func testShutdownDrainsAndItsTimeLimitStopsTheRest() async throws {
        for limit in [nil, 0.3] {
            let engine = GenerationEngine(model: GlyphModel.served, limits: .init(parallel: 2))
            let slow = SlowPasses()
            engine.loop.afterPass = { _ in slow.wait() }  // 144 passes: ≥ 2.9 s
            let store = try SQLiteJobStore(path: ":memory:")
            let jobs = JobQueue(engine: engine, store: store, replica: "test", maxImages: 1)
            var configuration = ServiceGroupConfiguration(services: [engine, jobs], logger: Logger(label: "test"))
            configuration.maximumGracefulShutdownDuration = limit.map { .milliseconds(Int64($0 * 1000)) }
            let group = ServiceGroup(configuration: configuration)
            let running = Task { try await group.run() }
            let image = try await engine.submit([ImageJob(options: GenerationOptions(classLabel: 3), schedule: .make(nameOrFail: "raster"))])[0]
            let outcome = Task { () -> String in
                do {
                    for try await event in image { if case .completed = event { return "completed" } }
                    return "ended"
                } catch { return "\(type(of: error))" }
            }
            let job = try await jobs.create(try ImagesRequest.decode(Array(#"{"prompt":"J","schedule":"raster"}"#.utf8)))
            for _ in 0..<250 where await engine.load.running < 2 { try await Task.sleep(nanoseconds: 20_000_000) }
            let load = await engine.load
            XCTAssertEqual(load.running, 2, "the image and the job run")
            let asked = Date()
            await group.triggerGracefulShutdown()
            try await running.value
            let seconds = Date().timeIntervalSince(asked), result = await outcome.value
            let status = try await store.job(job.id)?.status
            if limit == nil {
                XCTAssertEqual(result, "completed")
                XCTAssertEqual(status, .succeeded)
            } else {
                XCTAssertLessThan(seconds, 1.5, "the limit cut the drain short")
                XCTAssertEqual(result, "CancellationError")
                XCTAssertEqual(status, .queued, "a running job goes back in the queue")
            }
        }
    }

    func testCORSIsOffByDefaultAndAnswersPreflightsWhenOn() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init())
        let origin: HTTPFields = [.origin: "https://app.example"]
        try await makeApp(engine: engine, running: false).test(.router) { client in
            let models = try await client.execute(uri: "/v1/models", method: .get, headers: origin)
            XCTAssertEqual(models.status, .ok)
            XCTAssertNil(models.headers[.accessControlAllowOrigin])
        }
        let configuration = ServerConfiguration(port: 0, apiKey: "k", corsOrigin: "https://app.example")
        try await makeApp(engine: engine, configuration: configuration, running: false).test(.router) { client in
            var preflight = origin
            preflight[.accessControlRequestMethod] = "POST"
            preflight[.accessControlRequestHeaders] = "authorization, content-type"
            // No key needed for a preflight: browsers send none.
            let options = try await client.execute(uri: "/v1/images/generations", method: .options, headers: preflight)
            XCTAssertEqual(options.status, .noContent)
            XCTAssertEqual(options.headers[.accessControlAllowOrigin], "https://app.example")
            XCTAssertEqual(options.headers[.accessControlAllowMethods]?.contains("POST"), true)
            XCTAssertEqual(options.headers[.accessControlAllowHeaders]?.lowercased().contains("authorization"), true)
            var authorized = origin
            authorized[.authorization] = "Bearer k"
            let models = try await client.execute(uri: "/v1/models", method: .get, headers: authorized)
            XCTAssertEqual(models.status, .ok)
            XCTAssertEqual(models.headers[.accessControlAllowOrigin], "https://app.example")
            // Errors keep their OpenAI body and get the header too, so the page can read them.
            let denied = try await client.execute(uri: "/v1/models", method: .get, headers: origin)
            XCTAssertEqual(denied.status, .unauthorized)
            XCTAssertEqual(denied.error["type"] as? String, "authentication_error")
            XCTAssertEqual(denied.headers[.accessControlAllowOrigin], "https://app.example")
        }
    }
}

/// Slows every pass by 20 ms until switched off (the generation thread calls `wait`).
final class SlowPasses: @unchecked Sendable {
    private let lock = NSLock()
    private var on = true

    func wait() { if lock.withLock({ on }) { usleep(20_000) } }
    func off() { lock.withLock { on = false } }
}
