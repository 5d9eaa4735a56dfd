import Foundation
import Hummingbird

/// `/v1/zipar/jobs`: submit (202, or 429 with Retry-After), look up, follow (server-sent events, resumable
/// with `Last-Event-ID`) and cancel stored jobs; `GET /v1/images/{id}/content` serves their PNGs.
struct JobsRoutes: Sendable {
    let jobs: JobQueue
    let configuration: ServerConfiguration

    func add(to router: Router<BasicRequestContext>) {
        router.post("v1/zipar/jobs") { request, _ in try await create(request) }
        router.get("v1/zipar/jobs/:id") { _, context in
            try JSON.response(.ok, try await jobs.job(try context.parameters.require("id")))
        }
        router.post("v1/zipar/jobs/:id/cancel") { _, context in
            try JSON.response(.ok, try await jobs.cancel(try context.parameters.require("id")))
        }
        router.get("v1/zipar/jobs/:id/events") { request, context in
            try await events(try context.parameters.require("id"), lastEventID: request.headers.first { $0.name.canonicalName == "last-event-id" }?.value)
        }
        router.get("v1/images/:id/content") { _, context in
            let image = try await jobs.image(try context.parameters.require("id"))
            return Response(status: .ok, headers: [.contentType: "image/png", .cacheControl: "max-age=31536000, immutable"],
                            body: .init(byteBuffer: ByteBuffer(bytes: image.png)))
        }
    }

    private func create(_ request: Request) async throws -> Response {
        let bytes = try await request.body.collect(upTo: configuration.maxBodyBytes)
        let job = try await jobs.create(try ImagesRequest.decode(Array(buffer: bytes)))
        var response = try JSON.response(.accepted, job)
        response.headers[.location] = "/v1/zipar/jobs/\(job.id)"
        return response
    }

    private func events(_ id: String, lastEventID: String?) async throws -> Response {
        let listener = try await jobs.events(id, after: lastEventID), keepAlive = configuration.keepAliveSeconds
        return SSE.response(closesConnection: false) {
            SSE.frames(keepAliveSeconds: keepAlive) { output in
                for await frame in listener { output.yield(frame) }
                output.finish()
            }
        }
    }
}
