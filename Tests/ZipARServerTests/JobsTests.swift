import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
import ZipAR
@testable import ZipARServer

/// `/v1/zipar/jobs`: stored jobs, their event streams, cancellation, and a restart over the same database.
final class JobsTests: XCTestCase {
    /// A job queue over a fresh SQLite file (or `path`) for an engine of the glyph model.
    func makeQueue(path: String? = nil, limits: GenerationEngine.Limits = .init()) throws -> (GenerationEngine, JobQueue, String) {
        let file = path ?? FileManager.default.temporaryDirectory.appendingPathComponent("jobs-\(UUID().uuidString).sqlite").path
        let engine = GenerationEngine(model: GlyphModel.served, limits: limits)
        return (engine, JobQueue(engine: engine, store: try SQLiteJobStore(path: file), replica: "test", maxImages: 4), file)
    }

    /// Submits a job and returns its id.
    func submit(_ client: some TestClientProtocol, _ json: String) async throws -> String {
        let response = try await client.post(json, uri: "/v1/zipar/jobs")
        return try XCTUnwrap(response.json["id"] as? String, String(buffer: response.body))
    }

    /// The image the library makes alone for `json` as the Images API plans it.
    func solo(_ json: String, image: Int = 0) throws -> Data {
        let plan = try ImagesRequest.decode(Array(json.utf8)).plan(for: GlyphModel.served, maxImages: 4, for: .job)
        return try soloPNG(plan.jobs[image].options, schedule: plan.jobs[image].schedule)
    }

    func testAJobRunsPassByPassAndServesItsImage() async throws {
        let (engine, jobs, _) = try makeQueue()
        let json = #"{"prompt":"Q","seed":4,"schedule":"zipar","window":6,"partial_images":2}"#
        let expected = try solo(json)
        try await makeApp(engine: engine, jobs: jobs).test(.ahc(.http)) { client in
            let created = try await client.post(json, uri: "/v1/zipar/jobs")
            XCTAssertEqual(created.status, .accepted)
            let id = try XCTUnwrap(created.json["id"] as? String)
            XCTAssertEqual(created.headers[.location], "/v1/zipar/jobs/\(id)")
            XCTAssertEqual(created.json["status"] as? String, "queued")
            let events = try await client.execute(uri: "/v1/zipar/jobs/\(id)/events", method: .get)
            XCTAssertEqual(events.headers[.contentType], "text/event-stream")
            let (frames, ids, _) = sseFrames(String(buffer: events.body))
            let names = frames.map(\.0)
            XCTAssertEqual(names.first, "job")
            XCTAssertEqual(names.last, "completed")
            XCTAssertEqual(names.filter { $0 == "partial_image" }.count, 2)
            // One progress event a pass, the wavefront's cells together covering the grid once.
            let progress = frames.filter { $0.0 == "progress" }.map(\.1)
            let completed = try XCTUnwrap(frames.last?.1)
            let image = try XCTUnwrap((completed["images"] as? [[String: Any]])?.first)
            XCTAssertEqual(progress.count, image["passes"] as? Int)
            XCTAssertEqual(progress.last?["tokens"] as? Int, 144)
            XCTAssertEqual(progress.flatMap { $0["cells"] as? [Int] ?? [] }.sorted(), Array(0..<144))
            XCTAssertLessThan(progress.count, 144, "the zipar schedule decodes several cells a pass")
            // Event ids count up within the attempt.
            XCTAssertEqual(ids.compactMap { $0 }.first, "1.1")
            let content = try await client.execute(uri: try XCTUnwrap(image["url"] as? String), method: .get)
            XCTAssertEqual(content.headers[.contentType], "image/png")
            XCTAssertEqual(Data(buffer: content.body), expected, "a job's image is the library's image alone")
            let listed = try await jobs.store.images(ofJob: id)
            XCTAssertEqual(listed.map(\.png), [Data()], "the job's listing leaves the PNG bytes out")
            XCTAssertEqual(listed.first?.imageInfo()?.passes, image["passes"] as? Int)
            let state = try await client.execute(uri: "/v1/zipar/jobs/\(id)", method: .get)
            XCTAssertEqual(state.json["status"] as? String, "succeeded")
            XCTAssertEqual((state.json["progress"] as? [String: Any])?["tokens"] as? Int, 144)
            // A finished job's events: the job, then how it ended.
            let again = try await client.execute(uri: "/v1/zipar/jobs/\(id)/events", method: .get,
                                                 headers: [.init("Last-Event-ID")!: "1.3"])
            XCTAssertEqual(sseFrames(String(buffer: again.body)).events.map(\.0), ["job", "completed"])
        }
    }

    /// What a killed server leaves (jobs queued, one taken as running, nothing generated) runs to the same
    /// images when a new server opens the database.
    func testJobsSurviveARestart() async throws {
        let jsons = (0..<3).map { #"{"prompt":"\#(["A", "B", "C"][$0])","seed":\#(10 + $0),"schedule":"zipar","window":4}"# }
        let (engine, jobs, _) = try makeQueue()
        let ids = (0..<3).map { "job_restart\($0)" }
        for (id, json) in zip(ids, jsons) {
            try await jobs.store.insert(JobRecord(id: id, model: "zipar-glyphs", createdAt: 0, status: .queued, request: Data(json.utf8)))
        }
        let taken = try await jobs.store.claimNext(model: "zipar-glyphs", owner: "test", leaseSeconds: 3600)
        XCTAssertEqual(taken?.id, ids[0])
        XCTAssertEqual(taken?.status, .running)
        try await makeApp(engine: engine, jobs: jobs).test(.ahc(.http)) { client in
            for (id, json) in zip(ids, jsons) {
                let events = try await client.execute(uri: "/v1/zipar/jobs/\(id)/events", method: .get)
                XCTAssertEqual(sseFrames(String(buffer: events.body)).events.last?.0, "completed", id)
                let image = try await client.execute(uri: "/v1/images/img_\(id.dropFirst(4))_0/content", method: .get)
                XCTAssertEqual(Data(buffer: image.body), try solo(json), id)
            }
        }
        let attempt = try await jobs.store.job(ids[0])?.attempt
        XCTAssertEqual(attempt, 2, "the job left running started again")
    }

    /// Leases: a replica takes back its own unfinished jobs when it starts again, anyone's once their lease ran
    /// out, and never a live replica's; only the owner may end a job.
    func testLeasesDecideWhoseJobsGoBackInTheQueue() async throws {
        let (_, jobs, _) = try makeQueue()
        let store = jobs.store
        for i in 0..<3 {
            try await store.insert(JobRecord(id: "job_\(i)", model: "m", createdAt: Double(i), status: .queued, request: Data("{}".utf8)))
        }
        let a = try await store.claimNext(model: "m", owner: "a", leaseSeconds: 3600)
        let b = try await store.claimNext(model: "m", owner: "b", leaseSeconds: -1)
        let c = try await store.claimNext(model: "m", owner: "c", leaseSeconds: 3600)
        XCTAssertEqual([a?.id, b?.id, c?.id], ["job_0", "job_1", "job_2"], "oldest first, each once")
        let none = try await store.claimNext(model: "m", owner: "a", leaseSeconds: 3600)
        XCTAssertNil(none)
        let expired = try await store.requeueAbandoned(model: "m", leftBy: nil)
        XCTAssertEqual(expired, 1, "b's lease ran out")
        let own = try await store.requeueAbandoned(model: "m", leftBy: "a")
        XCTAssertEqual(own, 1, "a started again")
        let stolen = try await store.finish("job_2", owner: "a", status: .succeeded, error: nil, images: [])
        XCTAssertFalse(stolen, "c's job")
        let ended = try await store.finish("job_2", owner: "c", status: .succeeded, error: nil, images: [])
        XCTAssertTrue(ended)
        let statuses = try await (0..<3).asyncMap { try await store.job("job_\($0)")?.status }
        XCTAssertEqual(statuses, [.queued, .queued, .succeeded])
    }

    func testCancellingAQueuedJobAndAFinishedOne() async throws {
        let (engine, jobs, _) = try makeQueue(limits: .init(parallel: 1))
        try await makeApp(engine: engine, jobs: jobs, running: false).test(.ahc(.http)) { client in
            let first = try await submit(client, #"{"prompt":"A"}"#), second = try await submit(client, #"{"prompt":"B"}"#)
            for id in [first, second] {
                let cancelled = try await client.execute(uri: "/v1/zipar/jobs/\(id)/cancel", method: .post)
                XCTAssertEqual(cancelled.status, .ok)
                XCTAssertEqual(cancelled.json["status"] as? String, "cancelled", id)
                let events = try await client.execute(uri: "/v1/zipar/jobs/\(id)/events", method: .get)
                XCTAssertEqual(sseFrames(String(buffer: events.body)).events.map(\.0), ["job", "cancelled"])
                let again = try await client.execute(uri: "/v1/zipar/jobs/\(id)/cancel", method: .post)
                XCTAssertEqual(again.status, .conflict)
                XCTAssertEqual(again.error["code"] as? String, "job_finished")
            }
            let unknown = try await client.execute(uri: "/v1/zipar/jobs/job_nope", method: .get)
            XCTAssertEqual(unknown.status, .notFound)
            XCTAssertEqual(unknown.error["code"] as? String, "job_not_found")
            let noImage = try await client.execute(uri: "/v1/images/img_nope/content", method: .get)
            XCTAssertEqual(noImage.error["code"] as? String, "image_not_found")
        }
    }

    /// `response_format: url` on the Images API stores the image beside the jobs' and links it.
    func testImagesAPIAnswersWithURLs() async throws {
        let (engine, jobs, _) = try makeQueue()
        try await makeApp(engine: engine, jobs: jobs).test(.ahc(.http)) { client in
            let linked = try await client.post(#"{"prompt":"K","seed":8,"n":2,"response_format":"url"}"#)
            XCTAssertEqual(linked.status, .ok)
            let urls = (linked.json["data"] as? [[String: Any]] ?? []).compactMap { $0["url"] as? String }
            XCTAssertEqual(urls.count, 2)
            let inline = try await client.post(#"{"prompt":"K","seed":8,"n":2}"#)
            for (url, png) in zip(urls, inline.images) {
                let path = try XCTUnwrap(URLComponents(string: url)?.path)
                XCTAssertTrue(url.hasPrefix("http://") && path.hasPrefix("/v1/images/img_"), url)
                let content = try await client.execute(uri: path, method: .get)
                XCTAssertEqual(Data(buffer: content.body), png)
            }
        }
    }

    func testBadJobsAreRefusedWithTheField() async throws {
        let (engine, jobs, _) = try makeQueue(limits: .init(maxQueue: 0))
        try await makeApp(engine: engine, jobs: jobs).test(.ahc(.http)) { client in
            for (json, param) in [(#"{"prompt":"Q","stream":true}"#, "stream"), (#"{"prompt":"Q","partial_images":17}"#, "partial_images"),
                                  (#"{"prompt":"?"}"#, "prompt"), (#"{"prompt":"Q","n":5}"#, "n"),
                                  (#"{"prompt":"Q","response_format":"webp"}"#, "response_format")] {
                let response = try await client.post(json, uri: "/v1/zipar/jobs")
                XCTAssertEqual(response.status, .badRequest, json)
                XCTAssertEqual(response.error["param"] as? String, param, json)
            }
            let full = try await client.post(#"{"prompt":"Q"}"#, uri: "/v1/zipar/jobs")
            XCTAssertEqual(full.status, .tooManyRequests)
            XCTAssertEqual(full.error["code"] as? String, "queue_full")
            XCTAssertNotNil(full.headers[.retryAfter].flatMap { Int($0) })
        }
    }

    /// A listener that reconnects with `Last-Event-ID` gets only the events after it, within the attempt.
    func testReplayAfterTheLastEventID() throws {
        let record = JobRecord(id: "job_x", model: "m", createdAt: 0, status: .running, request: Data("{}".utf8), attempt: 2)
        let job = LiveJob(record: record, images: 1)
        for pass in 1...5 { job.emit("progress", JobProgressEvent(index: 0, pass: pass, tokens: pass, total_tokens: 9, cells: [pass])) }
        func replay(_ lastEventID: String?) -> [String?] {
            let (stream, listener) = AsyncStream.makeStream(of: String.self)
            job.attach(UUID(), listener, after: lastEventID)
            listener.finish()
            var frames = ""
            let done = DispatchSemaphore(value: 0)
            Task { for await frame in stream { frames += frame }; done.signal() }
            done.wait()
            return sseFrames(frames).ids
        }
        XCTAssertEqual(replay("2.3"), ["2.4", "2.5"])
        XCTAssertEqual(replay(nil).count, 5)
        XCTAssertEqual(replay("1.3").count, 5, "an id of an earlier attempt replays the whole attempt")
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var values: [T] = []
        for element in self { values.append(try await transform(element)) }
        return values
    }
}
