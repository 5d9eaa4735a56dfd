import Foundation

/// The JSON of `POST /v1/images/generations` (OpenAI's `ImagesResponse`), with how each image was made
/// under one extra key, `zipar`.
struct ImagesResponse: Encodable {
    var created: Int
    var data: [ImageData]
    var output_format = "png"
    var size: String
    var zipar: [ImageInfo]

    /// One image: its PNG in base64, or (`response_format: url`) where to fetch it.
    struct ImageData: Encodable {
        var b64_json: String?
        var url: String?
    }
}

/// How one image was made.
struct ImageInfo: Codable {
    var seed: UInt64
    var schedule: String
    var passes: Int
    var seconds: Double
    var batch_size: Int

    init(_ image: GeneratedImage) {
        seed = image.seed
        schedule = image.stats.schedule
        passes = image.stats.forward_passes
        seconds = image.stats.seconds
        batch_size = image.batchSize
    }
}

/// `data:` of an `image_generation.partial_image` event.
struct PartialImageEvent: Encodable {
    var type = "image_generation.partial_image"
    var b64_json: String
    var partial_image_index: Int
    var created_at: Int
    var output_format = "png"
    var size: String
}

/// `data:` of an `image_generation.completed` event.
struct CompletedImageEvent: Encodable {
    var type = "image_generation.completed"
    var b64_json: String
    var created_at: Int
    var output_format = "png"
    var size: String
    var zipar: ImageInfo
}

/// `data:` of an `error` event (an error after the stream's headers were sent).
struct ErrorEvent: Encodable {
    var type = "error"
    var error: APIError.ErrorBody.Detail
}

/// `GET /v1/models`.
struct ModelList: Encodable {
    var object = "list"
    var data: [Entry]

    struct Entry: Encodable {
        var id: String
        var object = "model"
        var created: Int
        var owned_by = "zipar"
        /// What the model makes and takes (our extension; the web page reads it).
        var zipar: Details
    }

    struct Details: Encodable {
        var size: String
        var grid_width: Int
        var grid_height: Int
        /// A class model's labels, one character a class ("0-9A-Z" for the glyph model); absent for a text
        /// model and for a class model whose classes are indices.
        var class_labels: String?
        var text_to_image: Bool

        init(_ model: ServedModel) {
            size = model.sizeName
            grid_width = model.loaded.model.gridWidth
            grid_height = model.loaded.model.gridHeight
            class_labels = model.labels
            text_to_image = !model.isClassModel
        }
    }
}

/// Server-sent event framing: `event: NAME`, one `data:` line of JSON, a blank line.
enum SSE {
    static func event(_ name: String, _ data: some Encodable) throws -> String {
        "event: \(name)\ndata: \(String(decoding: try JSON.encode(data), as: UTF8.self))\n\n"
    }

    /// A comment line, which clients ignore: keeps idle proxies from closing the stream.
    static let keepAlive = ": keep-alive\n\n"
}
