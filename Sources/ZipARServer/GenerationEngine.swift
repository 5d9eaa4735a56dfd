import Foundation
import ServiceLifecycle
import ZipAR

/// Owns the served model and runs queued images in batches: up to `parallel` waiting images start together
/// and share every pass (each in its own cache rows, so an image is bit-identical whether it ran alone or in
/// a batch); the next batch starts when the running one finishes. Passes run on one dedicated thread and VQ
/// decoding on another, off the pass loop, so neither blocks Swift's cooperative pool or the next batch.
///
/// As a `Service` it runs until graceful shutdown, then finishes the queued and running images (new work is
/// refused with `EngineError.draining`) and returns.
public actor GenerationEngine: Service {
    /// How much work the engine takes.
    public struct Limits: Sendable {
        /// Images that share one batch's passes.
        public var parallel: Int
        /// Images that may wait for a batch; more are refused with `EngineError.queueFull`.
        public var maxQueue: Int

        public init(parallel: Int = 4, maxQueue: Int = 64) {
            self.parallel = parallel
            self.maxQueue = maxQueue
        }
    }

    public nonisolated let model: ServedModel
    public nonisolated let limits: Limits
    private let generator: Confined<ImageGenerator>
    private let generationQueue = DispatchQueue(label: "zipar.engine.generate")
    private let decodeQueue = DispatchQueue(label: "zipar.engine.decode")
    private let cancelled = CancelledSet()
    private var waiting: [Pending] = []
    private var runningIDs = Set<UInt64>()
    private var nextID: UInt64 = 0
    private var draining = false
    private var secondsPerBatch: Double?
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>

    public init(model: ServedModel, limits: Limits) {
        self.model = model
        self.limits = limits
        generator = Confined(ImageGenerator(model: model.loaded.model))
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Images waiting and images in the running batch.
    public var load: (waiting: Int, running: Int) { (waiting.count, runningIDs.count) }

    /// True until graceful shutdown begins.
    public var isAccepting: Bool { !draining }

    /// Queues `jobs` (all or none) and returns one event stream per job, in order. Dropping or cancelling a
    /// stream's consumer cancels its image: a waiting image leaves the queue, a running one is dropped (its
    /// batch stops after the current pass once every image in it is cancelled).
    public func submit(_ jobs: [ImageJob]) throws -> [AsyncThrowingStream<ImageEvent, Error>] {
        if draining { throw EngineError.draining }
        guard waiting.count + jobs.count <= limits.maxQueue else { throw EngineError.queueFull(retryAfter: retryAfter()) }
        return jobs.map { job in
            nextID += 1
            let id = nextID
            let (stream, continuation) = AsyncThrowingStream.makeStream(of: ImageEvent.self)
            continuation.onTermination = { [weak self, cancelled] reason in
                guard case .cancelled = reason else { return }
                cancelled.insert(id)
                Task { await self?.dropWaiting(id) }
            }
            waiting.append(Pending(id: id, job: job, events: continuation))
            wake.yield()
            return stream
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            for await _ in wakes {
                while !waiting.isEmpty { await runBatch() }
                if draining || Task.isCancelled { break }
            }
        } onGracefulShutdown: {
            Task { await self.beginDrain() }
        }
        for pending in waiting { pending.events.finish(throwing: CancellationError()) }
        waiting.removeAll()
    }

    private func beginDrain() {
        draining = true
        wake.yield()
    }

    private func dropWaiting(_ id: UInt64) {
        if let i = waiting.firstIndex(where: { $0.id == id }) {
            waiting.remove(at: i).events.finish(throwing: CancellationError())
            cancelled.remove(id)
        } else if !runningIDs.contains(id) {
            cancelled.remove(id)  // it had already finished
        }
    }

    /// Seconds until a queued image would likely start: the batches ahead at the mean batch time, 1…120.
    private func retryAfter() -> Int {
        let batchesAhead = Double(waiting.count / max(1, limits.parallel) + 1)
        return Int(min(120, max(1, (batchesAhead * (secondsPerBatch ?? 1)).rounded(.up))))
    }

    /// Runs the oldest `parallel` waiting images as one batch and hands their results to the decode thread.
    private func runBatch() async {
        let batch = Array(waiting.prefix(limits.parallel))
        waiting.removeFirst(batch.count)
        runningIDs = Set(batch.map(\.id))
        let started = Date()
        let run = BatchRun(batch: batch, model: model, cancelled: cancelled, decodeQueue: decodeQueue)
        let generator = self.generator
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            generationQueue.async {
                run.execute(with: generator.value)
                done.resume()
            }
        }
        let seconds = Date().timeIntervalSince(started)
        secondsPerBatch = secondsPerBatch.map { 0.7 * $0 + 0.3 * seconds } ?? seconds
        for pending in batch { cancelled.remove(pending.id) }
        runningIDs.removeAll()
    }
}

/// A queued image and where its events go.
struct Pending: Sendable {
    let id: UInt64
    let job: ImageJob
    let events: AsyncThrowingStream<ImageEvent, Error>.Continuation
}

/// Ids of images whose consumers went away, read by the pass loop between passes.
final class CancelledSet: @unchecked Sendable {
    private let lock = NSLock()
    private var ids = Set<UInt64>()

    func insert(_ id: UInt64) { lock.withLock { _ = ids.insert(id) } }
    func remove(_ id: UInt64) { lock.withLock { _ = ids.remove(id) } }
    func contains(_ id: UInt64) -> Bool { lock.withLock { ids.contains(id) } }
}

/// A value used by one serial queue alone, handed across isolation to reach it.
struct Confined<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
