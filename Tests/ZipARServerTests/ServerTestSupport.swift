import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
import ZipAR
@testable import ZipARServer

/// The embedded default glyph model (Sources/zipar/DefaultModel), loaded once.
enum GlyphModel {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/zipar/DefaultModel")

    static let served: ServedModel = {
        let gpt = directory.appendingPathComponent("gpt").path
        let loaded = LoadedModel(model: try! ModelFiles.loadGPT(directory: gpt, precision: .float32),
                                 decoder: try! ModelFiles.loadVQ(directory: directory.appendingPathComponent("vq").path),
                                 pixelMapping: .saveImage,
                                 sampling: SamplingDefaults.llamaGen.overridden(by: try! ModelFiles.generationConfig(in: gpt)),
                                 family: "llamagen")
        return ServedModel(id: "zipar-glyphs", loaded: loaded)
    }()
}

/// An application over `engine` (and `jobs`, which runs as a service when given); with `running` false the
/// engine never starts a batch (images stay queued).
func makeApp(engine: GenerationEngine, jobs: JobQueue? = nil, configuration: ServerConfiguration = ServerConfiguration(port: 0),
             running: Bool = true) -> some ApplicationProtocol {
    Application(router: ImageServer.router(engine: engine, jobs: jobs, configuration: configuration),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                services: (running ? [engine] : []) + (jobs.map { [$0] } ?? []))
}

/// The frames of an SSE body: (id, event, data JSON) per frame, and how many comment lines came.
func sseFrames(_ body: String) -> (events: [(String, [String: Any])], ids: [String?], comments: Int) {
    var events: [(String, [String: Any])] = [], ids: [String?] = [], comments = 0
    for block in body.components(separatedBy: "\n\n") where !block.isEmpty {
        var name = "", data = "", id: String?
        for line in block.split(separator: "\n") {
            if line.hasPrefix(":") { comments += 1 }
            if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
            if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
            if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
        }
        if !name.isEmpty {
            events.append((name, (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:]))
            ids.append(id)
        }
    }
    return (events, ids, comments)
}

/// JSON bodies and answers.
extension TestClientProtocol {
    func post(_ json: String, uri: String = "/v1/images/generations", headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/json"
        return try await execute(uri: uri, method: .post, headers: fields, body: ByteBuffer(string: json))
    }
}

extension TestResponse {
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:] }
    /// The `error` object of an OpenAI error body.
    var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
    /// The PNG bytes of each `data[].b64_json`.
    var images: [Data] { (json["data"] as? [[String: Any]] ?? []).compactMap { ($0["b64_json"] as? String).flatMap { Data(base64Encoded: $0) } } }
}

/// The image the library makes for `options` alone (a batch of one), as PNG bytes. It runs the served model
/// on the caller's thread, so only while no engine is generating with it (the model's scratch is its own).
func soloPNG(_ options: GenerationOptions, schedule: ScheduleSpec) throws -> Data {
    let model = GlyphModel.served
    let result = try ImageGenerator(model: model.loaded.model).generate(schedule, options: options)
    return Data(try ImageRendering.png(result, model: model))
}
