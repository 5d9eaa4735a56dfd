import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
import ZipAR
@testable import ZipARServer

/// OpenAI-shaped errors with the right status and param; the API key; back-pressure; cancellation.
final class ErrorTests: XCTestCase {
    func testBadRequestsGetOpenAIErrors() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init())
        let cases: [(body: String, status: HTTPResponse.Status, param: String?, code: String?)] = [
            ("{not json", .badRequest, nil, "invalid_json"),
            (#"{"n":1}"#, .badRequest, "prompt", "missing_required_parameter"),
            (#"{"prompt":"?"}"#, .badRequest, "prompt", "invalid_value"),
            (#"{"prompt":"Q","model":"dall-e-3"}"#, .notFound, "model", "model_not_found"),
            (#"{"prompt":"Q","n":0}"#, .badRequest, "n", "invalid_value"),
            (#"{"prompt":"Q","n":"two"}"#, .badRequest, "n", "invalid_type"),
            (#"{"prompt":"Q","size":"1024x1024"}"#, .badRequest, "size", "invalid_value"),
            (#"{"prompt":"Q","response_format":"url"}"#, .badRequest, "response_format", "invalid_value"),
            (#"{"prompt":"Q","negative_prompt":"blurry"}"#, .badRequest, "negative_prompt", "invalid_value"),
            (#"{"prompt":"Q","output_format":"webp"}"#, .badRequest, "output_format", "invalid_value"),
            (#"{"prompt":"Q","stream":true,"n":2}"#, .badRequest, "n", "invalid_value"),
            (#"{"prompt":"Q","partial_images":4}"#, .badRequest, "partial_images", "invalid_value"),
            (#"{"prompt":"Q","top_p":0}"#, .badRequest, "top_p", "invalid_value"),
            (#"{"prompt":"Q","seed":-1}"#, .badRequest, "seed", "invalid_value"),
            (#"{"prompt":"Q","schedule":"spiral"}"#, .badRequest, "schedule", "invalid_value"),
            (#"{"prompt":"Q","schedule":"zipar","window":0}"#, .badRequest, "window", "invalid_value"),
            (#"{"prompt":"Q","timeout":0}"#, .badRequest, "timeout", "invalid_value"),
            (#"{"prompt":"Q","timeout":"soon"}"#, .badRequest, "timeout", "invalid_type"),
        ]
        // Each answer closes its connection (see ImagesRoutes), so a client that reconnects.
        try await makeApp(engine: engine).test(.ahc(.http)) { client in
            for c in cases {
                let response = try await client.post(c.body)
                XCTAssertEqual(response.status, c.status, c.body)
                XCTAssertEqual(response.error["type"] as? String, "invalid_request_error", c.body)
                XCTAssertEqual(response.error["param"] as? String, c.param, c.body)
                XCTAssertEqual(response.error["code"] as? String, c.code, c.body)
                XCTAssertFalse((response.error["message"] as? String ?? "").isEmpty, c.body)
            }
            let missing = try await client.execute(uri: "/v1/nothing", method: .get)
            XCTAssertEqual(missing.status, .notFound)
            XCTAssertEqual(missing.error["type"] as? String, "invalid_request_error")
        }
    }

    func testBodyOverTheLimitIs413() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init())
        try await makeApp(engine: engine, running: false).test(.router) { client in
            let big = try await client.post(#"{"prompt":"Q","user":""# + String(repeating: "x", count: 70_000) + #""}"#)
            XCTAssertEqual(big.status, .contentTooLarge)
            XCTAssertEqual(big.error["code"] as? String, "request_too_large")
        }
    }

    func testAPIKey() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init())
        try await makeApp(engine: engine, configuration: ServerConfiguration(port: 0, apiKey: "s3cret")).test(.live) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            XCTAssertEqual(health.status, .ok)
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"], [.authorization: "Bearer s3cre"], [.authorization: "s3cret"]] {
                let models = try await client.execute(uri: "/v1/models", method: .get, headers: headers)
                XCTAssertEqual(models.status, .unauthorized)
                XCTAssertEqual(models.error["type"] as? String, "authentication_error")
                let generation = try await client.post(#"{"prompt":"Q"}"#, headers: headers)
                XCTAssertEqual(generation.status, .unauthorized)
            }
            let models = try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer s3cret"])
            XCTAssertEqual(models.status, .ok)
            let generation = try await client.post(#"{"prompt":"Q","seed":3}"#, headers: [.authorization: "Bearer s3cret"])
            XCTAssertEqual(generation.images.count, 1)
        }
        XCTAssertTrue(APIKeyMiddleware<BasicRequestContext>.constantTimeEqual(Array("ab".utf8), Array("ab".utf8)))
        XCTAssertFalse(APIKeyMiddleware<BasicRequestContext>.constantTimeEqual(Array("ab".utf8), Array("abc".utf8)))
        XCTAssertFalse(APIKeyMiddleware<BasicRequestContext>.constantTimeEqual(Array("ab".utf8), Array("ac".utf8)))
    }

    /// A full queue (the engine is not running, so queued images stay) answers 429 with Retry-After and
    /// retry-after-ms.
    func testFullQueueIs429WithRetryAfter() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init(parallel: 1, maxQueue: 2))
        let job = ImageJob(options: GenerationOptions(classLabel: 1), schedule: .make(nameOrFail: "raster"))
        let held = try await engine.submit([job, job])
        try await makeApp(engine: engine, running: false).test(.live) { client in
            let response = try await client.post(#"{"prompt":"Q"}"#)
            XCTAssertEqual(response.status, .tooManyRequests)
            XCTAssertEqual(response.error["type"] as? String, "rate_limit_error")
            XCTAssertEqual(response.error["code"] as? String, "queue_full")
            // Two images ahead of it on one place, no image timed yet (1 s each): three turns.
            XCTAssertEqual(response.headers[.retryAfter], "3")
            XCTAssertEqual(response.headers[.init("retry-after-ms")!], "3000", "what OpenAI's SDKs read first")
        }
        XCTAssertEqual(held.count, 2)
    }

    /// A waiting image whose consumer is cancelled leaves the queue.
    func testCancellingAConsumerRemovesItsWaitingImage() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init(parallel: 1, maxQueue: 4))
        let job = ImageJob(options: GenerationOptions(classLabel: 2), schedule: .make(nameOrFail: "raster"))
        let streams = try await engine.submit([job])
        let consumer = Task { for try await _ in streams[0] {} }
        var load = await engine.load
        XCTAssertEqual(load.waiting, 1)
        consumer.cancel()
        _ = await consumer.result
        for _ in 0..<100 where load.waiting > 0 {
            try await Task.sleep(nanoseconds: 10_000_000)
            load = await engine.load
        }
        XCTAssertEqual(load.waiting, 0)
    }
}
