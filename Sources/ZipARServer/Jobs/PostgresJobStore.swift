import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// Jobs and images in PostgreSQL (postgres-nio), so that several `zipar serve` replicas share one queue: a
/// replica claims the oldest queued job with `FOR UPDATE SKIP LOCKED`, so two never take the same one, and
/// leases are counted in the database's clock. Tables `zipar_job` and `zipar_image` are created when absent.
public final class PostgresJobStore: JobStore {
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger = Logger(label: "zipar.jobs.postgres")

    private static let columns = "id, model, created_at, status, request, attempt, error, finished_at, owner, lease_until"

    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`;
    /// `?host=/path` for a Unix socket folder) and creates the tables when absent; throws when that has not
    /// succeeded within `seconds`.
    public static func connect(url: String, seconds: Double = 10) async throws -> PostgresJobStore {
        let store = PostgresJobStore(configuration: try configuration(url))
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.migrate() }
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                    throw PostgresURLError("no answer from the server within \(Int(seconds)) s")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            store.runner.cancel()
            throw error
        }
        return store
    }

    private init(configuration: PostgresClient.Configuration) {
        let client = PostgresClient(configuration: configuration)
        self.client = client
        runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    /// Throws `PostgresURLError` naming what is wrong with `url`, before any connection.
    public static func check(url: String) throws { _ = try configuration(url) }

    /// The client's configuration for a `postgres://` url; throws `PostgresURLError` naming what is wrong.
    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? "") else {
            throw PostgresURLError("is not a postgres:// url")
        }
        let user = parts.user.flatMap { $0.removingPercentEncoding } ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let password = parts.password?.removingPercentEncoding
        let database = String(parts.path.drop { $0 == "/" })
        let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        var configuration: PostgresClient.Configuration
        if let socketFolder = query["host"], socketFolder.hasPrefix("/") {
            let port = parts.port ?? 5432
            configuration = .init(unixSocketPath: "\(socketFolder)/.s.PGSQL.\(port)", username: user, password: password,
                                  database: database.isEmpty ? nil : database)
        } else {
            guard let host = parts.host, !host.isEmpty else { throw PostgresURLError("names no host") }
            let tls: PostgresClient.Configuration.TLS
            switch query["sslmode"] ?? "prefer" {
            case "disable": tls = .disable
            case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
            case "require": tls = .require(.makeClientConfiguration())
            case let mode: throw PostgresURLError("sslmode \(mode): give disable, prefer or require")
            }
            configuration = .init(host: host, port: parts.port ?? 5432, username: user, password: password,
                                  database: database.isEmpty ? nil : database, tls: tls)
        }
        configuration.options.minimumConnections = 0
        configuration.options.maximumConnections = 4
        return configuration
    }

    private func migrate() async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(7271720)", logger: logger)  // replicas starting together
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS zipar_job (
                    number BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, model TEXT NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL, status TEXT NOT NULL, request BYTEA NOT NULL,
                    attempt INTEGER NOT NULL DEFAULT 0, error BYTEA, finished_at DOUBLE PRECISION, owner TEXT,
                    lease_until DOUBLE PRECISION)
                """, logger: logger)
            try await connection.query("CREATE INDEX IF NOT EXISTS zipar_job_queue ON zipar_job (model, status, number)", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS zipar_image (
                    id TEXT PRIMARY KEY, job_id TEXT REFERENCES zipar_job (id) ON DELETE CASCADE, position INTEGER NOT NULL,
                    png BYTEA NOT NULL, info BYTEA NOT NULL, created_at DOUBLE PRECISION NOT NULL)
                """, logger: logger)
            try await connection.query("CREATE INDEX IF NOT EXISTS zipar_image_job ON zipar_image (job_id, position)", logger: logger)
        }
    }

    // MARK: Reading rows

    private func jobs(_ rows: PostgresRowSequence) async throws -> [JobRecord] {
        var records: [JobRecord] = []
        for try await (id, model, created, status, request, attempt, error, finished, owner, lease) in rows.decode(
            (String, String, Double, String, Data, Int, Data?, Double?, String?, Double?).self) {
            guard let status = JobStatus(rawValue: status) else { continue }
            records.append(JobRecord(id: id, model: model, createdAt: created, status: status, request: request, attempt: attempt,
                                     error: error, finishedAt: finished, owner: owner, leaseUntil: lease))
        }
        return records
    }

    private func images(_ rows: PostgresRowSequence) async throws -> [ImageRecord] {
        var records: [ImageRecord] = []
        for try await (id, job, position, png, info, created) in rows.decode((String, String?, Int, Data, Data, Double).self) {
            records.append(ImageRecord(id: id, jobID: job, index: position, png: png, info: info, createdAt: created))
        }
        return records
    }

    private func count(_ rows: PostgresRowSequence) async throws -> Int {
        var n = 0
        for try await _ in rows { n += 1 }
        return n
    }

    // MARK: JobStore

    public func insert(_ job: JobRecord) async throws {
        try await client.query("""
            INSERT INTO zipar_job (id, model, created_at, status, request, attempt, error, finished_at, owner, lease_until)
            VALUES (\(job.id), \(job.model), \(job.createdAt), \(job.status.rawValue), \(job.request), \(job.attempt), \(job.error),
                    \(job.finishedAt), \(job.owner), \(job.leaseUntil))
            """, logger: logger)
    }

    public func job(_ id: String) async throws -> JobRecord? {
        try await jobs(try await client.query("SELECT \(unescaped: Self.columns) FROM zipar_job WHERE id = \(id)", logger: logger)).first
    }

    public func count(model: String, status: JobStatus) async throws -> Int {
        for try await n in try await client.query(
            "SELECT COUNT(*) FROM zipar_job WHERE model = \(model) AND status = \(status.rawValue)", logger: logger).decode(Int.self) {
            return n
        }
        return 0
    }

    public func claimNext(model: String, owner: String, leaseSeconds: Double) async throws -> JobRecord? {
        try await jobs(try await client.query("""
            UPDATE zipar_job SET status = 'running', attempt = attempt + 1, owner = \(owner),
                lease_until = extract(epoch FROM now()) + \(leaseSeconds)
            WHERE id = (SELECT id FROM zipar_job WHERE model = \(model) AND status = 'queued' ORDER BY number
                        LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING \(unescaped: Self.columns)
            """, logger: logger)).first
    }

    public func renewLeases(owner: String, leaseSeconds: Double) async throws {
        try await client.query("""
            UPDATE zipar_job SET lease_until = extract(epoch FROM now()) + \(leaseSeconds)
            WHERE owner = \(owner) AND status = 'running'
            """, logger: logger)
    }

    public func requeueAbandoned(model: String, leftBy owner: String?) async throws -> Int {
        try await count(try await client.query("""
            UPDATE zipar_job SET status = 'queued', owner = NULL
            WHERE model = \(model) AND status = 'running'
              AND (lease_until IS NULL OR lease_until < extract(epoch FROM now()) OR owner = \(owner))
            RETURNING id
            """, logger: logger))
    }

    public func requeue(_ id: String) async throws {
        try await client.query("UPDATE zipar_job SET status = 'queued', owner = NULL WHERE id = \(id) AND status = 'running'",
                               logger: logger)
    }

    public func cancelQueued(_ id: String) async throws -> Bool {
        try await count(try await client.query("""
            UPDATE zipar_job SET status = 'cancelled', finished_at = \(Date().timeIntervalSince1970)
            WHERE id = \(id) AND status = 'queued' RETURNING id
            """, logger: logger)) == 1
    }

    public func finish(_ id: String, owner: String, status: JobStatus, error: APIError.ErrorBody.Detail?,
                       images: [ImageRecord]) async throws -> Bool {
        let errorJSON = try error.map { Data(try JSON.encode($0)) }
        let logger = self.logger
        return try await client.withTransaction(logger: logger) { connection in
            var ended = 0
            for try await _ in try await connection.query("""
                UPDATE zipar_job SET status = \(status.rawValue), error = \(errorJSON), finished_at = \(Date().timeIntervalSince1970),
                    lease_until = NULL
                WHERE id = \(id) AND owner = \(owner) AND status = 'running' RETURNING id
                """, logger: logger) { ended += 1 }
            guard ended == 1 else { return false }
            for image in images { try await Self.insert(image, on: connection, logger: logger) }
            return true
        }
    }

    public func insert(_ image: ImageRecord) async throws {
        let logger = self.logger
        try await client.withConnection { connection in try await Self.insert(image, on: connection, logger: logger) }
    }

    private static func insert(_ image: ImageRecord, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            INSERT INTO zipar_image (id, job_id, position, png, info, created_at)
            VALUES (\(image.id), \(image.jobID), \(image.index), \(image.png), \(image.info), \(image.createdAt))
            """, logger: logger)
    }

    public func images(ofJob id: String) async throws -> [ImageRecord] {
        try await images(try await client.query(
            "SELECT id, job_id, position, ''::bytea, info, created_at FROM zipar_image WHERE job_id = \(id) ORDER BY position", logger: logger))
    }

    public func image(_ id: String) async throws -> ImageRecord? {
        try await images(try await client.query(
            "SELECT id, job_id, position, png, info, created_at FROM zipar_image WHERE id = \(id)", logger: logger)).first
    }
}

/// A `--jobs-db postgres://…` url that cannot be used, or a server that does not answer.
public struct PostgresURLError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
