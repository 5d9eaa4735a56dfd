import ArgumentParser
import Foundation
import ZipAR
import ZipARServer

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the model over HTTP: OpenAI's Images API (POST /v1/images/generations, GET /v1/models).",
        discussion: """
        With no model flags it serves the embedded default glyph model, where a request's prompt is one label as \
        --class-label takes it ("Q"). A text-to-image --model folder takes prompts in words. Images are batched: up \
        to --parallel waiting images share one batch's passes; an image is the same whether it ran alone or in a \
        batch. SIGTERM or SIGINT drains (requests in flight finish) and exits. See docs/serving.md.
        """)

    @OptionGroup(title: "Model") var gpt: GPTOptions
    @OptionGroup(title: "VQ decoder") var vq: VQOptions

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed when listening).") var port = 8080
    @Option(help: "Images that share one batch's passes.") var parallel = 4
    @Option(name: .customLong("max-queue"), help: "Images that may wait; more get 429 with Retry-After.") var maxQueue = 64
    @Option(name: .customLong("max-n"), help: "Largest n of one request.") var maxN = 10
    @Option(name: .customLong("max-body"), help: "Largest request body in bytes; more gets 413.") var maxBody = 64 * 1024
    @Option(name: .customLong("api-key"), help: "Require Authorization: Bearer KEY on every route but /health and /ready (default: the ZIPAR_API_KEY environment variable, if set).")
    var apiKey: String?
    @Option(name: .customLong("model-id"), help: "The model's id in /v1/models and requests (default: the folder's or preset's name; zipar-glyphs for the default model).")
    var modelID: String?
    @Option(help: "Seconds a request may take, waiting included; past it the image stops and the request gets 504 deadline_exceeded (0: no limit; a request's timeout field may ask for less).")
    var timeout: Double = 600
    @Option(name: .customLong("cors-origin"), help: "The origin browsers may call the API from (* for any). Default: no CORS headers.")
    var corsOrigin: String?
    @Option(name: .customLong("jobs-db"), help: "Where /v1/zipar/jobs and their images are kept across restarts: an SQLite file (default: $XDG_STATE_HOME/zipar/jobs.sqlite or ~/.local/state/zipar/jobs.sqlite), a postgres://USER@HOST/DB url (replicas share its queue), :memory: (nothing kept), or none (no jobs API).")
    var jobsDB: String?
    @Option(name: .customLong("shutdown-timeout"), help: "Seconds SIGTERM waits for requests, images and running jobs to finish; then running images stop, their requests fail and running jobs go back in the queue (0: wait for them all).")
    var shutdownTimeout: Double = 0
    @Option(name: .customLong("job-lease"), help: "Seconds a running job stays this server's without renewal (renewed every second); after a crash, other servers run its jobs once the lease ran out.")
    var jobLease: Double = 15
    @Option(name: .customLong("replica-id"), help: "This server's name in the job store, the owner of the jobs it runs; a server that starts again under the same name takes its unfinished jobs back at once, others once its lease (--job-lease) ran out (default: HOST:PORT, HOST:pidPID with --port 0).")
    var replicaID: String?

    func validate() throws {
        try checkFlag("--port", port, { (0...65535).contains($0) }, "must lie in 0…65535")
        try checkFlag("--parallel", parallel, { (1...256).contains($0) }, "must lie in 1…256")
        try checkFlag("--max-queue", maxQueue, { $0 >= 0 }, "must be 0 or more")
        try checkFlag("--max-n", maxN, { (1...100).contains($0) }, "must lie in 1…100")
        try checkFlag("--max-body", maxBody, { (1024...(64 << 20)).contains($0) }, "must lie in 1024…67108864")
        try checkFlag("--api-key", apiKey, { !$0.isEmpty }, "must not be empty")
        try checkFlag("--model-id", modelID, { !$0.isEmpty }, "must not be empty")
        try checkFlag("--timeout", timeout, { $0.isFinite && $0 >= 0 }, "must be 0 (no limit) or a positive number of seconds")
        try checkFlag("--cors-origin", corsOrigin, { $0 == "*" || (($0.hasPrefix("http://") || $0.hasPrefix("https://")) && !$0.contains(" ")) },
                      "must be * or an origin such as https://example.com")
        try checkFlag("--replica-id", replicaID, { !$0.isEmpty }, "must not be empty")
        try checkFlag("--shutdown-timeout", shutdownTimeout, { $0.isFinite && $0 >= 0 }, "must be 0 (wait) or a positive number of seconds")
        try checkFlag("--job-lease", jobLease, { $0.isFinite && $0 >= 2 && $0 <= 86400 }, "must lie in 2…86400 seconds")
        try checkFlag("--jobs-db", jobsDB, { !$0.isEmpty && (!$0.contains("://") || $0.hasPrefix("postgres")) },
                      "must be a file path, :memory:, none or a postgres:// url")
        if let url = jobsDB, url.hasPrefix("postgres") {
            do { try PostgresJobStore.check(url: url) } catch { throw UsageError("--jobs-db \(url): \(error)") }
        }
    }

    func run() throws {
        let command = self
        try blockingRun {
            let store = try await command.openJobStore()  // first: a bad --jobs-db fails before a long model load
            let engine = try command.makeEngine()
            let jobs = store.map { JobQueue(engine: engine, store: $0, replica: command.replica, maxImages: command.maxN,
                                            leaseSeconds: command.jobLease) }
            let model = engine.model, host = command.host
            try await ImageServer.run(engine: engine, jobs: jobs, configuration: command.configuration,
                                      shutdownTimeout: command.shutdownTimeout > 0 ? command.shutdownTimeout : nil) { port in
                FileHandle.standardError.write(Data("zipar: serving \(model.id) (\(model.sizeName)) on http://\(host):\(port)\n".utf8))
            }
        }
    }

    /// The model (the embedded one without model flags) in an engine with --parallel and --max-queue.
    func makeEngine() throws -> GenerationEngine {
        let loaded: LoadedModel
        if gpt.model != nil {
            loaded = try gpt.loadTextModel(vq: vq)
        } else {
            loaded = LoadedModel(model: try gpt.load(), decoder: try vq.load(), pixelMapping: .saveImage,
                                 sampling: try gpt.samplingDefaults(), family: "llamagen")
        }
        return GenerationEngine(model: ServedModel(id: modelID ?? defaultID, loaded: loaded),
                                limits: .init(parallel: parallel, maxQueue: maxQueue))
    }

    /// What the HTTP side enforces; the API key from --api-key or ZIPAR_API_KEY.
    var configuration: ServerConfiguration {
        let key = apiKey ?? ProcessInfo.processInfo.environment["ZIPAR_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        return ServerConfiguration(host: host, port: port, apiKey: key, maxBodyBytes: maxBody, maxImages: maxN,
                                   requestTimeout: timeout > 0 ? timeout : nil, corsOrigin: corsOrigin)
    }

    /// The store `--jobs-db` names, or nil with `--jobs-db none`.
    func openJobStore() async throws -> (any JobStore)? {
        let path = jobsDB ?? Self.defaultJobsDB
        guard path != "none" else { return nil }
        do {
            return path.hasPrefix("postgres") ? try await PostgresJobStore.connect(url: path) : try SQLiteJobStore(path: path)
        } catch {
            throw UsageError("--jobs-db \(path): cannot open the job database (\(String(describing: error).prefix(300)))")
        }
    }

    /// This server's owner name in the job store.
    var replica: String {
        let info = ProcessInfo.processInfo
        return replicaID ?? "\(info.hostName):\(port != 0 ? String(port) : "pid\(info.processIdentifier)")"
    }

    /// `$XDG_STATE_HOME/zipar/jobs.sqlite`, or under `~/.local/state`.
    static var defaultJobsDB: String {
        let environment = ProcessInfo.processInfo.environment
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/state").path
        return URL(fileURLWithPath: state).appendingPathComponent("zipar/jobs.sqlite").path
    }

    /// The id requests name the model by.
    var defaultID: String {
        if let path = gpt.model ?? gpt.directory { return URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent }
        return gpt.preset ?? "zipar-glyphs"
    }
}

/// Runs `operation` to its end from synchronous code (the command's `run`), rethrowing its error.
func blockingRun(_ operation: @escaping @Sendable () async throws -> Void) throws {
    final class Outcome: @unchecked Sendable { var error: Error? }
    let outcome = Outcome(), done = DispatchSemaphore(value: 0)
    Task {
        do { try await operation() } catch { outcome.error = error }
        done.signal()
    }
    done.wait()
    if let error = outcome.error { throw error }
}
