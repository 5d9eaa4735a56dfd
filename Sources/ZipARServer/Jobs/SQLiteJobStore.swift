import Foundation
import GRDB

/// Jobs and images in one SQLite file (GRDB), each change one committed transaction, so a killed server's
/// queued and finished jobs are there when it starts again. The file is in WAL mode with `synchronous =
/// NORMAL`: a killed process loses nothing it committed; a power cut may lose the last commits.
public final class SQLiteJobStore: JobStore {
    private let database: DatabaseQueue

    /// Opens (creating when absent) the database at `path`, and its folder; ":memory:" keeps it in memory.
    public init(path: String) throws {
        if path != ":memory:" {
            try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        if path != ":memory:" {
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
        }
        database = path == ":memory:" ? try DatabaseQueue(configuration: configuration)
                                      : try DatabaseQueue(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "job") { t in
                t.autoIncrementedPrimaryKey("number")
                t.column("id", .text).notNull().unique()
                t.column("model", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.column("status", .text).notNull()
                t.column("request", .blob).notNull()
                t.column("attempt", .integer).notNull().defaults(to: 0)
                t.column("error", .blob)
                t.column("finishedAt", .double)
                t.column("owner", .text)
                t.column("leaseUntil", .double)
            }
            try db.create(index: "job_queue", on: "job", columns: ["model", "status", "number"])
            try db.create(table: "image") { t in
                t.primaryKey("id", .text)
                t.column("jobID", .text).references("job", column: "id", onDelete: .cascade)
                t.column("index", .integer).notNull()
                t.column("png", .blob).notNull()
                t.column("info", .blob).notNull()
                t.column("createdAt", .double).notNull()
            }
            try db.create(index: "image_job", on: "image", columns: ["jobID", "index"])
        }
        return migrator
    }

    public func insert(_ job: JobRecord) async throws {
        try await database.write { db in try job.insert(db) }
    }

    public func job(_ id: String) async throws -> JobRecord? {
        try await database.read { db in try JobRecord.filter(Column("id") == id).fetchOne(db) }
    }

    public func count(model: String, status: JobStatus) async throws -> Int {
        try await database.read { db in
            try JobRecord.filter(Column("model") == model && Column("status") == status).fetchCount(db)
        }
    }

    public func claimNext(model: String, owner: String, leaseSeconds: Double) async throws -> JobRecord? {
        try await database.write { db in
            guard var job = try JobRecord.filter(Column("model") == model && Column("status") == JobStatus.queued)
                .order(Column("number")).fetchOne(db) else { return nil }
            job.status = .running
            job.attempt += 1
            job.owner = owner
            job.leaseUntil = Date().timeIntervalSince1970 + leaseSeconds
            try JobRecord.filter(Column("id") == job.id)
                .updateAll(db, Column("status").set(to: job.status), Column("attempt").set(to: job.attempt),
                           Column("owner").set(to: owner), Column("leaseUntil").set(to: job.leaseUntil))
            return job
        }
    }

    public func renewLeases(owner: String, leaseSeconds: Double) async throws {
        try await database.write { db in
            _ = try JobRecord.filter(Column("owner") == owner && Column("status") == JobStatus.running)
                .updateAll(db, Column("leaseUntil").set(to: Date().timeIntervalSince1970 + leaseSeconds))
        }
    }

    public func requeueAbandoned(model: String, leftBy owner: String?) async throws -> Int {
        try await database.write { db in
            let expired = Column("leaseUntil") == nil || Column("leaseUntil") < Date().timeIntervalSince1970
            return try JobRecord.filter(Column("model") == model && Column("status") == JobStatus.running
                                        && (owner.map { Column("owner") == $0 || expired } ?? expired))
                .updateAll(db, Column("status").set(to: JobStatus.queued), Column("owner").set(to: nil))
        }
    }

    public func requeue(_ id: String) async throws {
        try await database.write { db in
            _ = try JobRecord.filter(Column("id") == id && Column("status") == JobStatus.running)
                .updateAll(db, Column("status").set(to: JobStatus.queued), Column("owner").set(to: nil))
        }
    }

    public func cancelQueued(_ id: String) async throws -> Bool {
        try await database.write { db in
            try JobRecord.filter(Column("id") == id && Column("status") == JobStatus.queued)
                .updateAll(db, Column("status").set(to: JobStatus.cancelled), Column("finishedAt").set(to: Date().timeIntervalSince1970)) > 0
        }
    }

    public func finish(_ id: String, owner: String, status: JobStatus, error: APIError.ErrorBody.Detail?,
                       images: [ImageRecord]) async throws -> Bool {
        let errorJSON = try error.map { Data(try JSON.encode($0)) }
        return try await database.write { db in
            let ended = try JobRecord.filter(Column("id") == id && Column("owner") == owner && Column("status") == JobStatus.running)
                .updateAll(db, Column("status").set(to: status), Column("error").set(to: errorJSON),
                           Column("finishedAt").set(to: Date().timeIntervalSince1970), Column("leaseUntil").set(to: nil))
            guard ended == 1 else { return false }
            for image in images { try image.insert(db) }
            return true
        }
    }

    public func insert(_ image: ImageRecord) async throws {
        try await database.write { db in try image.insert(db) }
    }

    public func images(ofJob id: String) async throws -> [ImageRecord] {
        try await database.read { db in
            try ImageRecord.fetchAll(db, sql: """
                SELECT id, jobID, "index", X'' AS png, info, createdAt FROM image WHERE jobID = ? ORDER BY "index"
                """, arguments: [id])
        }
    }

    public func image(_ id: String) async throws -> ImageRecord? {
        try await database.read { db in try ImageRecord.fetchOne(db, key: id) }
    }
}
