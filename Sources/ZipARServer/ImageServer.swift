import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The HTTP side of `zipar serve`: OpenAI's Images API over a `GenerationEngine`, with liveness and
/// readiness probes and Prometheus metrics.
public enum ImageServer {
    /// The router: the web page at `/`, `POST /v1/images/generations`, `GET /v1/models`, `GET /health`, `GET /ready`,
    /// `GET /metrics`, and with `jobs` the `/v1/zipar/jobs` routes and `GET /v1/images/{id}/content`; every
    /// error in OpenAI's shape; CORS headers for `configuration.corsOrigin`.
    public static func router(engine: GenerationEngine, jobs: JobQueue? = nil, configuration: ServerConfiguration) -> Router<BasicRequestContext> {
        let router = Router()
        // Outermost first: metrics see every answer; CORS adds its headers to errors too and answers
        // preflights before the API key is asked for.
        router.middlewares.add(RequestMetricsMiddleware(metrics: engine.metrics))
        if let origin = configuration.corsOrigin {
            router.middlewares.add(CORSMiddleware(
                allowOrigin: origin == "*" ? .all : .custom(origin),
                allowHeaders: [.accept, .authorization, .contentType], allowMethods: [.get, .post, .options],
                exposedHeaders: ["Retry-After", "retry-after-ms"]))
        }
        router.middlewares.add(APIErrorMiddleware())
        if let key = configuration.apiKey { router.middlewares.add(APIKeyMiddleware(key: key)) }
        let started = Int(Date().timeIntervalSince1970)
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: WebPage.html)))
        }
        router.get("health") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("ready") { _, _ -> Response in
            guard await engine.isAccepting else { throw APIError.unavailable("the server is shutting down") }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ready"}"#)))
        }
        router.get("metrics") { _, _ -> Response in
            let (waiting, running) = await engine.load
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: engine.metrics.render(waiting: waiting, running: running))))
        }
        router.get("v1/models") { _, _ in
            let list = ModelList(data: [.init(id: engine.model.id, created: started, zipar: .init(engine.model))])
            return try JSON.response(.ok, list)
        }
        let images = ImagesRoutes(engine: engine, store: jobs?.store, configuration: configuration)
        router.post("v1/images/generations") { request, context in try await images.generate(request, context: context) }
        if let jobs { JobsRoutes(jobs: jobs, configuration: configuration).add(to: router) }
        return router
    }

    /// The application on `configuration.host:port`, with the engine and the job queue as its services (shut
    /// down after the HTTP server, the queue before the engine, so requests and jobs in flight finish).
    /// `onRunning` gets the port it listens on.
    public static func application(engine: GenerationEngine, jobs: JobQueue? = nil, configuration: ServerConfiguration,
                                   logger: Logger = Logger(label: "zipar.serve"),
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(engine: engine, jobs: jobs, configuration: configuration),
                    configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "zipar"),
                    services: [engine] + (jobs.map { [$0] } ?? []), onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
                    logger: logger)
    }

    /// Serves until SIGTERM or SIGINT, then drains: the listener closes, requests in flight, queued images and
    /// running jobs finish, and it returns. With `shutdownTimeout` the drain lasts at most that many seconds;
    /// then running images stop at the next pass boundary (their requests fail, running jobs go back in the
    /// queue) and it returns.
    public static func run(engine: GenerationEngine, jobs: JobQueue? = nil, configuration: ServerConfiguration,
                           shutdownTimeout: Double? = nil, logger: Logger = Logger(label: "zipar.serve"),
                           onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = application(engine: engine, jobs: jobs, configuration: configuration, logger: logger, onRunning: onRunning)
        var group = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = shutdownTimeout.map { .milliseconds(Int64($0 * 1000)) }
        try await ServiceGroup(configuration: group).run()
    }
}
