import Foundation
import ZipAR

/// The body of `POST /v1/images/generations`: OpenAI's fields plus ZipAR's extensions at top level (the
/// SDKs send them through `extra_body`). Fields OpenAI defines that do not apply here (quality, style,
/// background, moderation, user, output_compression) and unknown fields are ignored.
public struct ImagesRequest: Codable, Sendable {
    public var model: String?
    public var prompt: String?
    public var n: Int?
    public var size: String?
    public var response_format: String?
    public var output_format: String?
    public var stream: Bool?
    public var partial_images: Int?
    public var seed: Int64?
    public var cfg_scale: Float?
    public var temperature: Float?
    public var top_k: Int?
    public var top_p: Float?
    public var schedule: String?
    public var window: Int?
    /// The unconditional branch's prompt (Emu3 models; others refuse it).
    public var negative_prompt: String?
    /// Seconds the request may take (at most the server's `--timeout`).
    public var timeout: Double?

    /// Decodes a body; malformed JSON or a field of the wrong type is a 400 naming the field.
    public static func decode(_ bytes: [UInt8]) throws -> ImagesRequest {
        do {
            return try JSONDecoder().decode(ImagesRequest.self, from: Data(bytes))
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            let field = context.codingPath.first?.stringValue
            throw APIError.invalid("'\(field ?? "body")' must be \(Self.describe(type))", param: field, code: "invalid_type")
        } catch DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty {
            let field = context.codingPath.first?.stringValue
            throw APIError.invalid("'\(field ?? "body")' is out of range or malformed", param: field)
        } catch {
            throw APIError.invalid("the body is not a JSON object", param: nil, code: "invalid_json")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Float.Type, is Double.Type: return "a number"
        default: return "of another type"
        }
    }
}

/// What a request is for: an answer to `POST /v1/images/generations`, or a stored job, whose partial images
/// go to its event stream (0…16, no `stream` flag).
public enum RequestUse: Sendable {
    case images, job
}

/// A request checked against the served model and the server's limits.
public struct ImagesPlan: Sendable {
    public var jobs: [ImageJob]
    public var stream: Bool
    public var size: String
    /// True for `response_format: url`: the images are stored and the answer links them.
    public var answersWithURLs: Bool
}

extension ImagesRequest {
    /// Checks every field and builds the jobs (seeds seed, seed+1, … as `zipar generate` gives several
    /// labels; with no seed a random one), each with the request's `timeout`, at most `maxSeconds` (nil: no
    /// server limit). Throws `APIError` naming the field at fault.
    public func plan(for model: ServedModel, maxImages: Int, maxSeconds: Double? = nil, for use: RequestUse = .images) throws -> ImagesPlan {
        if let name = self.model, name != model.id {
            throw APIError(status: .notFound, message: "the model '\(name)' does not exist (this server serves '\(model.id)')",
                           type: "invalid_request_error", param: "model", code: "model_not_found")
        }
        guard let prompt else { throw APIError.invalid("'prompt' is required", param: "prompt", code: "missing_required_parameter") }
        let count = n ?? 1
        guard (1...maxImages).contains(count) else { throw APIError.invalid("'n' must lie in 1…\(maxImages)", param: "n") }
        if let size, size != "auto", size != model.sizeName {
            throw APIError.invalid("'size' \(size): this model makes \(model.sizeName) images (or give \"auto\")", param: "size")
        }
        if let format = response_format, format != "b64_json", format != "url" {
            throw APIError.invalid("'response_format' \(format): give b64_json or url", param: "response_format")
        }
        if let format = output_format, format != "png" {
            throw APIError.invalid("'output_format' \(format): only png is supported", param: "output_format")
        }
        let streaming = stream ?? false
        if streaming, use == .job {
            throw APIError.invalid("'stream': a job reports through GET /v1/zipar/jobs/{id}/events", param: "stream")
        }
        if streaming, count != 1 { throw APIError.invalid("'stream' takes n = 1", param: "n") }
        let partials = partial_images ?? 0, maxPartials = use == .job ? 16 : 3
        guard (0...maxPartials).contains(partials) else {
            throw APIError.invalid("'partial_images' must lie in 0…\(maxPartials)", param: "partial_images")
        }
        if let v = cfg_scale, !(v.isFinite && v >= 0) { throw APIError.invalid("'cfg_scale' must be a finite number, 0 or more", param: "cfg_scale") }
        if let v = temperature, !(v.isFinite && v >= 0) { throw APIError.invalid("'temperature' must be 0 (greedy) or a finite positive number", param: "temperature") }
        if let v = top_k, v < 0 { throw APIError.invalid("'top_k' must be 0 or positive", param: "top_k") }
        if let v = top_p, !(v > 0 && v <= 1) { throw APIError.invalid("'top_p' must lie in (0, 1]", param: "top_p") }
        if let v = timeout, !(v.isFinite && v > 0) { throw APIError.invalid("'timeout' must be a positive number of seconds", param: "timeout") }
        let seconds = [timeout, maxSeconds].compactMap { $0 }.min()
        let spec: ScheduleSpec
        do {
            spec = try ScheduleSpec.make(name: schedule ?? "raster", width: model.loaded.model.gridWidth, window: window,
                                         lineEnd: model.loaded.model.rowsEndInLineEnd)
        } catch let error as ScheduleSpecError {
            throw APIError.invalid("'\(error.about == .window ? "window" : "schedule")': \(error.description)",
                                   param: error.about == .window ? "window" : "schedule")
        }
        let condition = try model.condition(for: prompt)
        if let negative_prompt {
            do {
                _ = try model.loaded.model.conditioning(condition, guidance: true, schedule: spec.description, negativePrompt: negative_prompt)
            } catch {
                throw APIError.invalid("'negative_prompt': \(error)", param: "negative_prompt")
            }
        }
        let defaults = model.loaded.sampling
        let sampling = SamplingOptions(temperature: temperature ?? defaults.options.temperature,
                                       topK: top_k ?? defaults.options.topK, topP: top_p ?? defaults.options.topP)
        if let seed, seed < 0 { throw APIError.invalid("'seed' must be 0 or more", param: "seed") }
        let first = seed.map { UInt64($0) } ?? UInt64.random(in: 0...UInt64(UInt32.max))
        let jobs = (0..<count).map { k in
            ImageJob(options: GenerationOptions(condition: condition, cfgScale: cfg_scale ?? defaults.cfgScale, sampling: sampling,
                                                seed: first &+ UInt64(k), negativePrompt: negative_prompt),
                     schedule: spec, partialImages: streaming || use == .job ? partials : 0, timeout: seconds)
        }
        return ImagesPlan(jobs: jobs, stream: streaming, size: model.sizeName, answersWithURLs: response_format == "url" && use == .images)
    }
}
