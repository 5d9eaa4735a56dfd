import Foundation
import ZipAR

/// The pass loop on the generation thread, with continuous batching: between passes it drops cancelled
/// images and admits waiting ones (up to `parallel`) into a `ContinuousBatch`, runs one pass of all of them,
/// queues partial images as grids fill and hands finished images to `decodeQueue`; images past their
/// deadline leave the queue or the batch at the boundary. Every pass and image is recorded in `metrics`.
/// Each image keeps its own cache rows, so it is bit-identical whatever joins or leaves around it. It
/// returns when nothing runs or waits.
final class BatchLoop: @unchecked Sendable {
    private let model: ServedModel
    private let waiting: WaitingQueue
    private let cancelled: CancelledSet
    private let metrics: ServerMetrics
    private let decodeQueue: DispatchQueue
    private let parallel: Int
    private var batch: ContinuousBatch?
    /// The images in the batch, by id.
    private var members: [UInt64: Member] = [:]
    /// Test hook: runs on the generation thread after every pass, with the pass count since the loop started.
    var afterPass: ((Int) -> Void)?

    /// An image in the batch: where its events go, its passes, the cells decoded so far, the partial images
    /// sent, and the most images that shared one of its passes.
    private struct Member {
        var pending: Pending
        var passes = 0
        var decoded: [Bool] = []
        var partialsSent = 0
        var sharedWith = 1

        mutating func passShared(by images: Int) { sharedWith = max(sharedWith, images) }
    }

    init(model: ServedModel, waiting: WaitingQueue, cancelled: CancelledSet, metrics: ServerMetrics, decodeQueue: DispatchQueue,
         parallel: Int) {
        self.model = model
        self.waiting = waiting
        self.cancelled = cancelled
        self.metrics = metrics
        self.decodeQueue = decodeQueue
        self.parallel = parallel
    }

    /// Runs passes on the calling (generation) thread until the batch and the queue are empty.
    func run(with generator: ImageGenerator) {
        var passes = 0
        while true {
            dropCancelled()
            dropExpired()
            admit(with: generator)
            guard let batch, !batch.isEmpty else { return }
            for id in batch.members { members[id]?.passShared(by: batch.count) }
            let images = batch.count, start = ContinuousClock.now
            let finished = batch.step()
            metrics.recordPass(seconds: start.duration(to: .now).seconds, images: images)
            sendProgress(batch, finished: finished)
            sendPartials(batch)
            for (id, result) in finished { complete(id, result) }
            passes += 1
            afterPass?(passes)
        }
    }

    /// Images whose consumers went away leave the batch.
    private func dropCancelled() {
        guard let batch else { return }
        for id in batch.members where cancelled.contains(id) {
            batch.remove(id)
            members.removeValue(forKey: id)?.pending.events.finish(throwing: CancellationError())
            waiting.finish(id)
            cancelled.remove(id)
            metrics.recordImage(.cancelled)
        }
    }

    /// Images past their deadline leave the queue and the batch with a 504 `deadline_exceeded`.
    private func dropExpired() {
        let now = ContinuousClock.now
        var expired = waiting.removeExpired(at: now)
        if let batch {
            for id in batch.members {
                guard let deadline = members[id]?.pending.deadline, deadline <= now,
                      let member = members.removeValue(forKey: id) else { continue }
                batch.remove(id)
                waiting.finish(id)
                expired.append(member.pending)
            }
        }
        for pending in expired {
            cancelled.remove(pending.id)
            pending.events.finish(throwing: APIError.deadlineExceeded(pending.job.timeout ?? 0))
            metrics.recordImage(.expired)
        }
    }

    /// Admits waiting images, oldest first, while fewer than `parallel` run and the next one fits. An image
    /// whose sequence needs more cache slots than the batch has waits until the batch empties, which is
    /// then rebuilt for it.
    private func admit(with generator: ImageGenerator) {
        while members.count < parallel, let pending = waiting.first {
            do {
                let layout = try generator.layout(for: pending.job.options)
                if batch == nil || (batch!.isEmpty && batch!.slots < layout.slots) {
                    batch = ContinuousBatch(generator: generator, rows: 2 * parallel, slots: max(layout.slots, batch?.slots ?? 0))
                }
                guard let batch, layout.slots <= batch.slots else { return }
                let schedule = pending.job.schedule.schedule(layout: layout, cfgInterval: pending.job.options.cfgInterval)
                guard try batch.admit(pending.id, schedule: schedule, options: pending.job.options) else { return }
                guard waiting.start(pending.id) else {  // dropped meanwhile
                    batch.remove(pending.id)
                    continue
                }
                metrics.recordAdmission(waited: pending.queuedAt.duration(to: .now).seconds)
                members[pending.id] = Member(pending: pending)
            } catch {
                guard waiting.remove(pending.id) != nil else { continue }
                let reported: Error = error is GenerationError || error is ContinuousBatchError
                    ? APIError.invalid("\(error)", param: "prompt") : error
                pending.events.finish(throwing: reported)
                metrics.recordImage(.failed)
            }
        }
    }

    /// Each image's `.progress` event for the pass just run: the cells it decoded.
    private func sendProgress(_ batch: ContinuousBatch, finished: [(id: UInt64, result: GenerationResult)]) {
        let filled = zip(batch.members, batch.grids).map { ($0, $1.cells.map { $0 != nil }) }
            + finished.map { ($0.id, [Bool](repeating: true, count: $0.result.tokens.count)) }
        for (id, cells) in filled {
            guard var member = members[id] else { continue }
            if member.decoded.count != cells.count { member.decoded = [Bool](repeating: false, count: cells.count) }
            let new = cells.indices.filter { cells[$0] && !member.decoded[$0] }
            member.decoded = cells
            member.passes += 1
            members[id] = member
            member.pending.events.yield(.progress(ImageProgress(pass: member.passes, tokens: cells.lazy.filter { $0 }.count,
                                                                totalTokens: cells.count, cells: new)))
        }
    }

    /// Queues the partial images now due (evenly spaced in tokens) for decoding.
    private func sendPartials(_ batch: ContinuousBatch) {
        for (id, grid) in zip(batch.members, batch.grids) {
            guard var member = members[id], !cancelled.contains(id) else { continue }
            let k = member.pending.job.partialImages
            guard member.partialsSent < k else { continue }
            let filled = grid.cells.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
            guard filled < grid.cells.count, filled * (k + 1) >= (member.partialsSent + 1) * grid.cells.count else { continue }
            let index = member.partialsSent, model = self.model, events = member.pending.events
            member.partialsSent += 1
            members[id] = member
            decodeQueue.async {
                do {
                    events.yield(.partial(index: index, png: try ImageRendering.partialPNG(grid, model: model)))
                } catch {
                    events.finish(throwing: error)
                }
            }
        }
    }

    /// A finished image: decoded and delivered on the decode thread.
    private func complete(_ id: UInt64, _ result: GenerationResult) {
        guard let member = members.removeValue(forKey: id) else { return }
        waiting.finish(id, seconds: result.stats.seconds)
        let wasCancelled = cancelled.contains(id)
        cancelled.remove(id)
        guard !wasCancelled else { return metrics.recordImage(.cancelled) }
        let model = self.model, metrics = self.metrics
        decodeQueue.async {
            do {
                let png = try ImageRendering.png(result, model: model)
                metrics.recordImage(.completed, generation: result.stats.seconds,
                                    latency: member.pending.queuedAt.duration(to: .now).seconds)
                member.pending.events.yield(.completed(GeneratedImage(png: png, seed: member.pending.job.options.seed,
                                                                      stats: result.stats, batchSize: member.sharedWith)))
                member.pending.events.finish()
            } catch {
                member.pending.events.finish(throwing: error)
                metrics.recordImage(.failed)
            }
        }
    }
}
