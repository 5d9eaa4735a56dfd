import Foundation
import Hummingbird

/// The frames of one image's event stream (`POST /v1/images/generations` with `stream: true`).
struct SSEFrames: Sendable {
    let events: AsyncThrowingStream<ImageEvent, Error>
    let size: String
    let keepAliveSeconds: Double

    /// The frames; ends after `image_generation.completed` or an `error` event. Cancelling the consumer
    /// cancels the image.
    func stream() -> AsyncThrowingStream<String, Error> {
        let events = self.events, size = self.size
        return SSE.frames(keepAliveSeconds: keepAliveSeconds) { output in
            do {
                for try await event in events {
                    let now = Int(Date().timeIntervalSince1970)
                    switch event {
                    case .progress: continue
                    case let .partial(index, png):
                        output.yield(try SSE.event("image_generation.partial_image", PartialImageEvent(
                            b64_json: Data(png).base64EncodedString(), partial_image_index: index, created_at: now, size: size)))
                    case .completed(let image):
                        output.yield(try SSE.event("image_generation.completed", CompletedImageEvent(
                            b64_json: Data(image.png).base64EncodedString(), created_at: now, size: size, zipar: ImageInfo(image))))
                    }
                }
                output.finish()
            } catch is CancellationError {
                output.finish(throwing: CancellationError())
            } catch {
                output.yield((try? SSE.event("error", ErrorEvent(error: APIError.reported(error).body.error))) ?? "")
                output.finish()
            }
        }
    }
}

extension SSE {
    /// A stream of frames that `produce` writes, with a keep-alive comment every `keepAliveSeconds` between
    /// them. Cancelling the consumer cancels `produce`.
    static func frames(keepAliveSeconds: Double,
                       _ produce: @escaping @Sendable (AsyncThrowingStream<String, Error>.Continuation) async -> Void)
        -> AsyncThrowingStream<String, Error> {
        let (frames, output) = AsyncThrowingStream.makeStream(of: String.self)
        let producer = Task {
            let ticker = Task {
                while !Task.isCancelled {
                    try await Task.sleep(nanoseconds: UInt64(keepAliveSeconds * 1e9))
                    output.yield(SSE.keepAlive)
                }
            }
            defer { ticker.cancel() }
            await produce(output)
        }
        output.onTermination = { _ in producer.cancel() }
        return frames
    }
}

extension SSE {
    /// A `text/event-stream` response that writes the frames `makeFrames` gives, made once the body is
    /// written; a client that went away fails the next write, which ends (and so cancels) the frames.
    static func response(closesConnection: Bool,
                         _ makeFrames: @escaping @Sendable () -> AsyncThrowingStream<String, Error>) -> Response {
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        if closesConnection { headers[.connection] = "close" }
        return Response(status: .ok, headers: headers, body: .init { writer in
            for try await frame in makeFrames() { try await writer.write(ByteBuffer(string: frame)) }
            try await writer.finish(nil)
        })
    }
}

extension APIError {
    /// `error` as clients see it: itself when it is an `APIError`, else a 500 "generation failed".
    static func reported(_ error: Error) -> APIError {
        error as? APIError ?? APIError(status: .internalServerError, message: "generation failed", type: "server_error")
    }
}
