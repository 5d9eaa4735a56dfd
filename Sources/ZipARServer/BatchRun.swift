import Foundation
import ZipAR

/// One batch on the generation thread: checks each image's condition, runs the valid ones in shared passes,
/// queues partial images as the grids fill and the finished images for decoding on `decodeQueue`.
final class BatchRun: @unchecked Sendable {
    private let batch: [Pending]
    private let model: ServedModel
    private let cancelled: CancelledSet
    private let decodeQueue: DispatchQueue
    /// Partial images already queued, by position in the batch being generated.
    private var partialsSent: [Int] = []

    init(batch: [Pending], model: ServedModel, cancelled: CancelledSet, decodeQueue: DispatchQueue) {
        self.batch = batch
        self.model = model
        self.cancelled = cancelled
        self.decodeQueue = decodeQueue
    }

    /// Runs the batch on the calling (generation) thread.
    func execute(with generator: ImageGenerator) {
        var valid: [Pending] = [], jobs: [(schedule: any DecodingSchedule, options: GenerationOptions)] = []
        for pending in batch where !cancelled.contains(pending.id) {
            do {
                let layout = try generator.layout(for: pending.job.options.condition)
                jobs.append((pending.job.schedule.schedule(layout: layout, cfgInterval: pending.job.options.cfgInterval),
                             pending.job.options))
                valid.append(pending)
            } catch let error as GenerationError {
                pending.events.finish(throwing: APIError.invalid(error.description, param: "prompt"))
            } catch {
                pending.events.finish(throwing: error)
            }
        }
        guard !jobs.isEmpty else { return }
        partialsSent = [Int](repeating: 0, count: valid.count)
        let results: [GenerationResult]
        do {
            results = try generator.generate(jobs) { [self] progress in passDone(progress, images: valid) }
        } catch {
            for pending in valid { pending.events.finish(throwing: error is GenerationError ? CancellationError() : error) }
            return
        }
        for (pending, result) in zip(valid, results) where !cancelled.contains(pending.id) {
            let model = self.model, count = valid.count
            decodeQueue.async {
                do {
                    let png = try ImageRendering.png(result, model: model)
                    pending.events.yield(.completed(GeneratedImage(png: png, seed: pending.job.options.seed,
                                                                   stats: result.stats, batchSize: count)))
                    pending.events.finish()
                } catch {
                    pending.events.finish(throwing: error)
                }
            }
        }
    }

    /// After each pass: queues the partial images now due; false (stop) once every image is cancelled.
    private func passDone(_ progress: GenerationProgress, images: [Pending]) -> Bool {
        var anyLive = false
        for (i, pending) in images.enumerated() where !cancelled.contains(pending.id) {
            anyLive = true
            let grid = progress.grids[i], k = pending.job.partialImages
            guard partialsSent[i] < k else { continue }
            let filled = grid.cells.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
            guard filled < grid.cells.count, filled * (k + 1) >= (partialsSent[i] + 1) * grid.cells.count else { continue }
            let index = partialsSent[i], model = self.model
            partialsSent[i] += 1
            decodeQueue.async {
                do {
                    pending.events.yield(.partial(index: index, png: try ImageRendering.partialPNG(grid, model: model)))
                } catch {
                    pending.events.finish(throwing: error)
                }
            }
        }
        return anyLive
    }
}
