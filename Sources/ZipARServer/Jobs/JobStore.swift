import Foundation

/// Where jobs and their images live, so that a restart loses none: SQLite (`SQLiteJobStore`) by default.
/// Every method is one transaction.
public protocol JobStore: Sendable {
    func insert(_ job: JobRecord) async throws
    func job(_ id: String) async throws -> JobRecord?
    /// Jobs of `model` with `status`.
    func count(model: String, status: JobStatus) async throws -> Int
    /// Marks the oldest queued job of `model` running (its attempt counted) and returns it; nil when none waits.
    func claimNext(model: String) async throws -> JobRecord?
    /// Puts `model`'s running jobs back in the queue (after a crash), returning how many.
    func requeueRunning(model: String) async throws -> Int
    /// Puts one running job back in the queue (the engine could not take it now).
    func requeue(_ id: String) async throws
    /// Cancels a job that is still queued; false when it is not queued.
    func cancelQueued(_ id: String) async throws -> Bool
    /// Ends a job: its final status, its error (failed) and its images (succeeded), together.
    func finish(_ id: String, status: JobStatus, error: APIError.ErrorBody.Detail?, images: [ImageRecord]) async throws
    /// Stores an image of no job (the Images API's `response_format: url`).
    func insert(_ image: ImageRecord) async throws
    /// A job's images in order, PNG bytes included.
    func images(ofJob id: String) async throws -> [ImageRecord]
    func image(_ id: String) async throws -> ImageRecord?
}
