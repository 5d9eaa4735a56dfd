import Foundation
import ServiceLifecycle
import ZipAR

/// Owns the served model and runs queued images with continuous batching: up to `parallel` images share
/// every pass, a waiting image joins the running batch at the next pass boundary once a place is free, and
/// a finished or cancelled one leaves it (each in its own cache rows, so an image is bit-identical whether it
/// ran alone or beside others). Passes run on one dedicated thread and VQ decoding on another, off the pass
/// loop, so neither blocks Swift's cooperative pool or the next pass.
///
/// As a `Service` it runs until graceful shutdown, then finishes the queued and running images (new work is
/// refused with `EngineError.draining`) and returns. Cancelled (a shutdown past its time limit), it stops the
/// running images at the next pass boundary and ends every stream with `CancellationError`.
public actor GenerationEngine: Service {
    /// How much work the engine takes.
    public struct Limits: Sendable {
        /// Images that share one pass.
        public var parallel: Int
        /// Images that may wait for a place; more are refused with `EngineError.queueFull`.
        public var maxQueue: Int

        public init(parallel: Int = 4, maxQueue: Int = 64) {
            self.parallel = parallel
            self.maxQueue = maxQueue
        }
    }

    public nonisolated let model: ServedModel
    public nonisolated let limits: Limits
    /// What `/metrics` reports about this engine.
    public nonisolated let metrics = ServerMetrics()
    private let generator: Confined<ImageGenerator>
    private let generationQueue = DispatchQueue(label: "zipar.engine.generate")
    private let cancelled = CancelledSet()
    private let waiting = WaitingQueue()
    /// The pass loop (internal for its test hook).
    nonisolated let loop: BatchLoop
    private var nextID: UInt64 = 0
    private var draining = false
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>

    public init(model: ServedModel, limits: Limits) {
        self.model = model
        self.limits = limits
        generator = Confined(ImageGenerator(model: model.loaded.model))
        loop = BatchLoop(model: model, waiting: waiting, cancelled: cancelled, metrics: metrics,
                         decodeQueue: DispatchQueue(label: "zipar.engine.decode"), parallel: limits.parallel)
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Images waiting for a place and images in the running batch.
    public var load: (waiting: Int, running: Int) { (waiting.count, waiting.runningCount) }

    /// True until graceful shutdown begins.
    public var isAccepting: Bool { !draining }

    /// Queues `jobs` (all or none) and returns one event stream per job, in order. Dropping or cancelling a
    /// stream's consumer cancels its image: a waiting image leaves the queue, a running one leaves the batch
    /// at the next pass boundary. A job's `timeout` counts from now.
    public func submit(_ jobs: [ImageJob]) throws -> [AsyncThrowingStream<ImageEvent, Error>] {
        if draining { throw EngineError.draining }
        guard waiting.count + jobs.count <= limits.maxQueue else { throw EngineError.queueFull(retryAfter: retryAfter()) }
        let now = ContinuousClock.now
        return jobs.map { job in
            nextID += 1
            let id = nextID
            let (stream, continuation) = AsyncThrowingStream.makeStream(of: ImageEvent.self)
            continuation.onTermination = { [weak self, cancelled] reason in
                guard case .cancelled = reason else { return }
                cancelled.insert(id)
                Task { await self?.dropWaiting(id) }
            }
            waiting.append(Pending(id: id, job: job, events: continuation, queuedAt: now))
            wake.yield()
            return stream
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            for await _ in wakes {
                if waiting.count > 0 { await runLoop() }
                if draining || Task.isCancelled { break }
            }
        } onGracefulShutdown: {
            Task { await self.beginDrain() }
        }
        for pending in waiting.removeAll() {
            pending.events.finish(throwing: CancellationError())
            metrics.recordImage(.cancelled)
        }
    }

    private func beginDrain() {
        draining = true
        wake.yield()
    }

    private func dropWaiting(_ id: UInt64) {
        if let pending = waiting.remove(id) {
            pending.events.finish(throwing: CancellationError())
            cancelled.remove(id)
            metrics.recordImage(.cancelled)
        } else if !waiting.isRunning(id) {
            cancelled.remove(id)  // it had already finished
        }
    }

    /// Seconds until an image queued behind `ahead` images (default: those waiting) would likely start: the
    /// turns ahead at the mean image time (1 s before the first image), 0.05…120.
    func retryAfter(ahead: Int? = nil) -> Double {
        let turnsAhead = Double((ahead ?? waiting.count) / max(1, limits.parallel) + 1)
        return min(120, max(0.05, turnsAhead * (waiting.secondsPerImage ?? 1)))
    }

    /// Runs the pass loop on the generation thread until nothing runs or waits; cancelled, it cancels every
    /// image, so the loop ends at the next pass boundary.
    private func runLoop() async {
        let generator = self.generator, loop = self.loop, waiting = self.waiting, cancelled = self.cancelled, metrics = self.metrics
        await withTaskCancellationHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                generationQueue.async {
                    loop.run(with: generator.value)
                    done.resume()
                }
            }
        } onCancel: {
            for pending in waiting.removeAll() {
                pending.events.finish(throwing: CancellationError())
                metrics.recordImage(.cancelled)
            }
            for id in waiting.runningIDs { cancelled.insert(id) }
        }
    }
}

/// A queued image, where its events go, and when it was submitted.
struct Pending: Sendable {
    let id: UInt64
    let job: ImageJob
    let events: AsyncThrowingStream<ImageEvent, Error>.Continuation
    let queuedAt: ContinuousClock.Instant

    /// When the image must be done by (its job's timeout from submission), if ever.
    var deadline: ContinuousClock.Instant? { job.timeout.map { queuedAt + .seconds($0) } }
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
