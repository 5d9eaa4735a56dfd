import Foundation
import GRDB

/// Where a job stands. `queued` and `running` jobs are picked up again after a restart.
public enum JobStatus: String, Codable, Sendable, DatabaseValueConvertible {
    case queued, running, succeeded, failed, cancelled

    /// True once the job will not change again.
    public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// One stored job: the request as accepted (its seed fixed, so a job that runs again after a restart makes
/// the same images), its status, and how it ended.
public struct JobRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "job"

    public var id: String
    /// The served model's id; a server takes only jobs for its own model.
    public var model: String
    public var createdAt: Double
    public var status: JobStatus
    /// The `ImagesRequest`, as JSON.
    public var request: Data
    /// How many times the job has started (a restart runs a running job again).
    public var attempt: Int = 0
    /// The `APIError` detail of a failed job, as JSON.
    public var error: Data?
    public var finishedAt: Double?
    /// The server running it (its `--replica-id`) and until when its claim holds unless renewed (seconds since
    /// 1970); a running job whose lease ran out goes back in the queue.
    public var owner: String?
    public var leaseUntil: Double?

    /// The stored request.
    public func imagesRequest() throws -> ImagesRequest { try JSONDecoder().decode(ImagesRequest.self, from: request) }

    /// The stored error.
    public func errorDetail() -> APIError.ErrorBody.Detail? {
        error.flatMap { try? JSONDecoder().decode(APIError.ErrorBody.Detail.self, from: $0) }
    }
}

/// One stored image: a job's `index`-th image (or, with no job, an image the Images API answered with a
/// url), its PNG and how it was made.
public struct ImageRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "image"

    public var id: String
    public var jobID: String?
    public var index: Int
    public var png: Data
    /// `ImageInfo` as JSON.
    public var info: Data
    public var createdAt: Double

    /// The stored `ImageInfo`.
    func imageInfo() -> ImageInfo? { try? JSONDecoder().decode(ImageInfo.self, from: info) }
}

extension ImageRecord {
    /// `image` stored under `id`, as a job's `index`-th image or (no `jobID`) on its own.
    init(_ image: GeneratedImage, id: String, jobID: String?, index: Int) throws {
        self.init(id: id, jobID: jobID, index: index, png: Data(image.png), info: Data(try JSON.encode(ImageInfo(image))),
                  createdAt: Date().timeIntervalSince1970)
    }
}
