import Foundation
import Hummingbird

/// `POST /v1/images/generations`: the whole response at once, or with `stream: true` OpenAI's server-sent
/// events. A client that goes away cancels its images.
struct ImagesRoutes: Sendable {
    let engine: GenerationEngine
    /// Where `response_format: url` images are kept (the job store); nil: url is refused.
    let store: (any JobStore)?
    let configuration: ServerConfiguration

    /// Answers inside Hummingbird's inbound-close watch, so a client that goes away cancels its images. The
    /// watch reads the request's parts itself (the body is read through it, as Hummingbird requires: reading it
    /// first leaves a pipelined next request to trap in NIO) and the connection closes after the answer, which
    /// says so with `Connection: close`.
    func generate(_ request: Request, context: some RequestContext) async throws -> Response {
        do {
            let host = request.head.authority ?? "\(configuration.host):\(configuration.port)"
            return try await request.body.consumeWithCancellationOnInboundClose { body in try await respond(to: body, host: host) }
        } catch var error as APIError {
            error.closesConnection = true
            throw error
        } catch let error as any HTTPResponseError {
            var api = APIError.from(status: error.status)
            api.closesConnection = true
            throw api
        }
    }

    private func respond(to body: RequestBody, host: String) async throws -> Response {
        let bytes = try await body.collect(upTo: configuration.maxBodyBytes)
        let plan = try ImagesRequest.decode(Array(buffer: bytes)).plan(for: engine.model, maxImages: configuration.maxImages,
                                                                          maxSeconds: configuration.requestTimeout)
        if plan.answersWithURLs, store == nil {
            throw APIError.invalid("'response_format' url needs the image store, which this server runs without (--jobs-db none)",
                                   param: "response_format")
        }
        let streams: [AsyncThrowingStream<ImageEvent, Error>]
        do {
            streams = try await engine.submit(plan.jobs)
        } catch EngineError.queueFull(let seconds) {
            throw APIError(status: .tooManyRequests, message: "the queue is full; retry in \(APIError.rounded(seconds)) s",
                           type: "rate_limit_error", code: "queue_full", retryAfter: seconds)
        } catch EngineError.draining {
            throw APIError.unavailable("the server is shutting down")
        }
        if plan.stream { return eventStream(streams[0], size: plan.size) }
        let images = try await Self.collect(streams)
        let data = plan.answersWithURLs ? try await stored(images, host: host)
                                        : images.map { ImagesResponse.ImageData(b64_json: Data($0.png).base64EncodedString()) }
        let response = ImagesResponse(created: Int(Date().timeIntervalSince1970), data: data, size: plan.size,
                                      zipar: images.map(ImageInfo.init))
        return try JSON.response(.ok, response, headers: [.connection: "close"])
    }

    /// Stores `images` and links them: `http://HOST/v1/images/{id}/content`.
    private func stored(_ images: [GeneratedImage], host: String) async throws -> [ImagesResponse.ImageData] {
        var data: [ImagesResponse.ImageData] = []
        for image in images {
            let id = "img_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            try await store?.insert(try ImageRecord(image, id: id, jobID: nil, index: 0))
            data.append(.init(url: "http://\(host)/v1/images/\(id)/content"))
        }
        return data
    }

    /// The finished images of `streams`, in order (consumed together, so cancelling the caller cancels all).
    static func collect(_ streams: [AsyncThrowingStream<ImageEvent, Error>]) async throws -> [GeneratedImage] {
        try await withThrowingTaskGroup(of: (Int, GeneratedImage?).self) { group in
            for (i, stream) in streams.enumerated() {
                group.addTask {
                    for try await event in stream { if case .completed(let image) = event { return (i, image) } }
                    return (i, nil)
                }
            }
            var images = [GeneratedImage?](repeating: nil, count: streams.count)
            for try await (i, image) in group { images[i] = image }
            guard images.allSatisfy({ $0 != nil }) else { throw CancellationError() }
            return images.map { $0! }
        }
    }

    /// The SSE response: partial images, then the completed one; an error after the headers is an `error`
    /// event; a comment every `keepAliveSeconds`.
    func eventStream(_ events: AsyncThrowingStream<ImageEvent, Error>, size: String) -> Response {
        let keepAlive = configuration.keepAliveSeconds
        // A client that went away fails the next write, which ends the frames and so cancels the image.
        return SSE.response(closesConnection: true) { SSEFrames(events: events, size: size, keepAliveSeconds: keepAlive).stream() }
    }
}

extension APIError {
    /// 504: the image did not finish within `seconds` of its submission.
    static func deadlineExceeded(_ seconds: Double) -> APIError {
        APIError(status: .gatewayTimeout, message: "the image did not finish within its deadline of \(seconds) s",
                 type: "server_error", param: "timeout", code: "deadline_exceeded")
    }

    /// 503: not ready, or draining.
    static func unavailable(_ message: String) -> APIError {
        APIError(status: .serviceUnavailable, message: message, type: "unavailable_error", code: "unavailable")
    }
}
