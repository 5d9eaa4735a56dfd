import Foundation

/// The frames of one image's event stream, with keep-alive comments between them while the image is slow.
struct SSEFrames: Sendable {
    let events: AsyncThrowingStream<ImageEvent, Error>
    let size: String
    let keepAliveSeconds: Double

    /// The frames; ends after `image_generation.completed` or an `error` event. Cancelling the consumer
    /// cancels the image.
    func stream() -> AsyncThrowingStream<String, Error> {
        let (frames, output) = AsyncThrowingStream.makeStream(of: String.self)
        let events = self.events, size = self.size, interval = keepAliveSeconds
        let producer = Task {
            let ticker = Task {
                while !Task.isCancelled {
                    try await Task.sleep(nanoseconds: UInt64(interval * 1e9))
                    output.yield(SSE.keepAlive)
                }
            }
            defer { ticker.cancel() }
            do {
                for try await event in events {
                    let now = Int(Date().timeIntervalSince1970)
                    switch event {
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
                let api = error as? APIError ?? APIError(status: .internalServerError, message: "generation failed", type: "server_error")
                output.yield((try? SSE.event("error", ErrorEvent(error: api.body.error))) ?? "")
                output.finish()
            }
        }
        output.onTermination = { _ in producer.cancel() }
        return frames
    }
}
