import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HummingbirdTesting
import XCTest
import ZipAR
@testable import ZipARServer

/// Many clients at once on loopback, some of them leaving mid-way.
final class LoadTests: XCTestCase {
    /// 100 concurrent requests, every 10th from a client that closes its connection right after sending:
    /// the other 90 images equal their solo runs, none of the 10 completes, and nothing is left running or
    /// waiting.
    func testHundredConcurrentRequestsWithEveryTenthAborted() async throws {
        let engine = GenerationEngine(model: GlyphModel.served, limits: .init(parallel: 4, maxQueue: 128))
        let labels = Array(GlyphModel.served.labels ?? "0123456789").map(String.init)
        let spec = ScheduleSpec.make(nameOrFail: "zipar", window: 2)
        func body(_ i: Int) -> String { #"{"prompt":"\#(labels[i % labels.count])","seed":\#(i),"schedule":"zipar","window":2}"# }
        try await makeApp(engine: engine).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            // Raw connections on threads of their own (blocking sockets stay off Swift's cooperative pool).
            let images = await withCheckedContinuation { (done: CheckedContinuation<[Int: Data], Never>) in
                let results = Results(), group = DispatchGroup()
                for i in 0..<100 {
                    group.enter()
                    Thread {
                        defer { group.leave() }
                        if i % 10 == 9 {
                            guard let fd = try? rawSend(port: port, rawGenerationRequest(body(i))) else { return }
                            usleep(50_000)
                            close(fd)
                        } else if let answer = try? rawExchange(port: port, rawGenerationRequest(body(i))) {
                            results.add(i, answer)
                        }
                    }.start()
                }
                group.notify(queue: .global()) { done.resume(returning: results.images) }
            }
            var load = await engine.load
            for _ in 0..<250 where load != (0, 0) {
                try await Task.sleep(nanoseconds: 20_000_000)
                load = await engine.load
            }
            XCTAssertEqual(load.waiting, 0)
            XCTAssertEqual(load.running, 0)
            // Only then the solo runs: they use the same model, which is the engine's while it runs.
            XCTAssertEqual(images.count, 90)
            let sampling = GlyphModel.served.loaded.sampling
            for (i, image) in images.sorted(by: { $0.key < $1.key }) {
                let options = GenerationOptions(condition: try GlyphModel.served.condition(for: labels[i % labels.count]),
                                                cfgScale: sampling.cfgScale, sampling: sampling.options, seed: UInt64(i))
                XCTAssertEqual(image, try soloPNG(options, schedule: spec), "request \(i) differs from its solo run")
            }
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            func count(_ outcome: String) -> Double? { sample(text, "zipar_images_total", [("outcome", outcome)]) }
            XCTAssertEqual(count("completed"), 90, text)
            // A client may leave before its request was read (then no image was queued), so at most 10.
            XCTAssertLessThanOrEqual(count("cancelled") ?? 0, 10, text)
            XCTAssertGreaterThanOrEqual(count("cancelled") ?? 0, 1, text)
        }
    }
}

/// The images of raw HTTP answers (`data[0].b64_json`), by request, filled from many threads.
final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var byRequest: [Int: Data] = [:]

    func add(_ i: Int, _ answer: String) {
        guard let start = answer.range(of: "\r\n\r\n"), answer.hasPrefix("HTTP/1.1 200"),
              let json = try? JSONSerialization.jsonObject(with: Data(answer[start.upperBound...].utf8)) as? [String: Any],
              let encoded = (json["data"] as? [[String: Any]])?.first?["b64_json"] as? String,
              let png = Data(base64Encoded: encoded) else { return }
        lock.withLock { byRequest[i] = png }
    }

    var images: [Int: Data] { lock.withLock { byRequest } }
}
