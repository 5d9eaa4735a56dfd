import Foundation

/// A job as `/v1/zipar/jobs` answers with it.
struct JobObject: Encodable {
    var id: String
    var object = "zipar.job"
    var model: String
    var created_at: Int
    var status: JobStatus
    var prompt: String
    var n: Int
    /// The token grid the wavefront fills.
    var grid: Grid
    /// Passes, and tokens decoded, over the job's images (while running; complete once it succeeded).
    var progress: Progress?
    var images: [Image]
    var error: APIError.ErrorBody.Detail?
    var finished_at: Int?
    /// The replica that runs or ran it (`--replica-id`).
    var served_by: String?

    struct Grid: Encodable { var width: Int, height: Int }
    struct Progress: Encodable { var passes: Int, tokens: Int, total_tokens: Int }

    /// A finished image: where its PNG is (`id`, `url`) and how it was made (`ImageInfo`'s fields beside them).
    struct Image: Encodable {
        var id: String
        var url: String
        var info: ImageInfo?

        init(_ record: ImageRecord) {
            id = record.id
            url = "/v1/images/\(record.id)/content"
            info = record.imageInfo()
        }

        private enum Keys: String, CodingKey { case id, url }

        func encode(to encoder: any Encoder) throws {
            try info?.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(id, forKey: .id)
            try container.encode(url, forKey: .url)
        }
    }

    init(_ job: JobRecord, model: ServedModel, progress: Progress?, images: [ImageRecord]) {
        let request = try? job.imagesRequest()
        id = job.id
        self.model = job.model
        created_at = Int(job.createdAt)
        status = job.status
        prompt = request?.prompt ?? ""
        n = request?.n ?? 1
        grid = Grid(width: model.loaded.model.gridWidth, height: model.loaded.model.gridHeight)
        self.progress = progress
        self.images = images.map(Image.init)
        error = job.errorDetail()
        finished_at = job.finishedAt.map { Int($0) }
        served_by = job.owner
    }
}

/// `data:` of a job's `progress` event: one image's pass.
struct JobProgressEvent: Encodable {
    var index: Int
    var pass: Int
    var tokens: Int
    var total_tokens: Int
    /// The cells (raster indices) this pass decoded.
    var cells: [Int]
}

/// `data:` of a job's `partial_image` event.
struct JobPartialEvent: Encodable {
    var index: Int
    var partial_image_index: Int
    var b64_json: String
}
