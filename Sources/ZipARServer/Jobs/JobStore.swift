import Foundation

/// Where jobs and their images live, so that a restart loses none: SQLite (`SQLiteJobStore`) by default,
/// PostgreSQL (`PostgresJobStore`) for several servers on one queue. Every method is one transaction.
///
/// A running job belongs to one server (`owner`, its replica id) under a lease the server renews while it
/// runs; a server that dies stops renewing, and any server puts its jobs back in the queue once the lease runs
/// out (or at once, when the same replica starts again).
public protocol JobStore: Sendable {
    func insert(_ job: JobRecord) async throws
    func job(_ id: String) async throws -> JobRecord?
    /// Jobs of `model` with `status`.
    func count(model: String, status: JobStatus) async throws -> Int
    /// Marks the oldest queued job of `model` running for `owner` (its attempt counted, leased for
    /// `leaseSeconds`) and returns it; nil when none waits. Two servers never claim the same job.
    func claimNext(model: String, owner: String, leaseSeconds: Double) async throws -> JobRecord?
    /// Extends the leases of `owner`'s running jobs by `leaseSeconds` from now.
    func renewLeases(owner: String, leaseSeconds: Double) async throws
    /// Puts back in the queue `model`'s running jobs whose lease ran out or (when given) that `owner` left (a
    /// previous run of this replica), returning how many.
    func requeueAbandoned(model: String, leftBy owner: String?) async throws -> Int
    /// Puts one running job back in the queue (the engine could not take it now, or the server stops).
    func requeue(_ id: String) async throws
    /// Cancels a job that is still queued; false when it is not queued.
    func cancelQueued(_ id: String) async throws -> Bool
    /// Ends `owner`'s running job: its final status, its error (failed) and its images (succeeded), together;
    /// false (nothing written) when the job is no longer this owner's (its lease ran out and another server
    /// took it).
    func finish(_ id: String, owner: String, status: JobStatus, error: APIError.ErrorBody.Detail?, images: [ImageRecord]) async throws -> Bool
    /// Stores an image of no job (the Images API's `response_format: url`).
    func insert(_ image: ImageRecord) async throws
    /// A job's images in order, without their PNG bytes (`png` empty): what the job's JSON lists. The bytes
    /// come from `image(_:)`.
    func images(ofJob id: String) async throws -> [ImageRecord]
    func image(_ id: String) async throws -> ImageRecord?
}
