import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
import ZipAR
@testable import ZipARServer

/// `stream: true`: OpenAI's SSE wire format.
final class StreamTests: XCTestCase {
    func testPartialImagesThenCompleted() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init())
        try await makeApp(engine: engine).test(.ahc(.http)) { client in
            let streamed = try await client.post(#"{"prompt":"R","seed":5,"stream":true,"partial_images":2}"#)
            XCTAssertEqual(streamed.status, .ok)
            XCTAssertEqual(streamed.headers[.contentType], "text/event-stream")
            let (events, _, _) = sseFrames(String(buffer: streamed.body))
            XCTAssertEqual(events.map(\.0), ["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"])
            for (name, data) in events { XCTAssertEqual(data["type"] as? String, name) }
            XCTAssertEqual(events.prefix(2).map { $0.1["partial_image_index"] as? Int }, [0, 1])
            let partials = events.prefix(2).compactMap { ($0.1["b64_json"] as? String).flatMap { Data(base64Encoded: $0) } }
            XCTAssertEqual(partials.count, 2)
            XCTAssertNotEqual(partials[0], partials[1])
            let plain = try await client.post(#"{"prompt":"R","seed":5}"#)
            XCTAssertEqual((events.last?.1["b64_json"] as? String).flatMap { Data(base64Encoded: $0) }, plain.images.first)
        }
    }

    func testErrorAfterHeadersIsAnErrorEvent() async throws {
        let (events, output) = AsyncThrowingStream.makeStream(of: ImageEvent.self)
        output.finish(throwing: APIError.invalid("the prompt is too long", param: "prompt"))
        var body = ""
        for try await frame in SSEFrames(events: events, size: "48x48", keepAliveSeconds: 60).stream() { body += frame }
        let (parsed, _, _) = sseFrames(body)
        XCTAssertEqual(parsed.map(\.0), ["error"])
        XCTAssertEqual(parsed.first?.1["type"] as? String, "error")
        XCTAssertEqual((parsed.first?.1["error"] as? [String: Any])?["param"] as? String, "prompt")
    }

    func testKeepAliveCommentsWhileWaiting() async throws {
        let (events, output) = AsyncThrowingStream.makeStream(of: ImageEvent.self)
        var body = ""
        for try await frame in SSEFrames(events: events, size: "48x48", keepAliveSeconds: 0.02).stream() {
            body += frame
            if sseFrames(body).comments >= 2 { output.finish() }
        }
        XCTAssertGreaterThanOrEqual(sseFrames(body).comments, 2)
        XCTAssertTrue(body.hasPrefix(": keep-alive\n\n"))
    }
}
