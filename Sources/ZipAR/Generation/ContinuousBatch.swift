import Foundation

/// A batch that images join and leave between passes (continuous batching). Each image holds its own cache
/// rows (one, or two with guidance; any free ones) from `admit` until it finishes or is removed, and those
/// rows are zeroed when handed out, so an image's tokens equal those of a solo run whatever joins or leaves around it.
///
/// Every pass runs the planned pass of each image in the batch; an image admitted between passes takes
/// part from the next one. Single-threaded: call it from one thread (or task) at a time.
public final class ContinuousBatch {
    /// Something in the batch, addressed by the id given to `admit`.
    public typealias ID = UInt64

    public let generator: ImageGenerator
    /// Cache rows and slots the batch has; an image needs its condition rows and its layout's slots.
    public let rows: Int, slots: Int
    private let cache: KVCache
    /// Per cache row: the condition row fed there, empty when free.
    private var conditions: [[Int]]
    private var owner: [ID?]
    private var images: [ImageInFlight] = []
    private var ids: [ID] = []

    /// A batch of `rows` cache rows of `slots` positions for `generator`'s model.
    public init(generator: ImageGenerator, rows: Int, slots: Int) {
        precondition(rows > 0 && slots > 0, "a batch needs rows and slots")
        self.generator = generator
        self.rows = rows
        self.slots = slots
        cache = generator.model.makeCache(batch: rows, slots: slots)
        conditions = [[Int]](repeating: [], count: rows)
        owner = [ID?](repeating: nil, count: rows)
    }

    /// Images in the batch.
    public var count: Int { images.count }
    public var isEmpty: Bool { images.isEmpty }

    /// The ids of the images in the batch, in admission order.
    public var members: [ID] { ids }

    /// Each image's token grid so far, in `members` order.
    public var grids: [TokenGrid] { images.map(\.grid) }

    /// Admits an image generated with `schedule` (built for `generator.layout(for: options.condition)`) if
    /// enough cache rows are free; false when it must wait. Throws what the model throws for a condition it
    /// cannot take (a prompt too long, a class out of range) and when the image can never fit this batch.
    public func admit(_ id: ID, schedule: any DecodingSchedule, options: GenerationOptions) throws -> Bool {
        precondition(!ids.contains(id), "id \(id) is already in the batch")
        let conditioning = try generator.model.conditioning(options.condition, guidance: options.cfgScale > 1,
                                                            schedule: schedule.conditionedAs, negativePrompt: options.negativePrompt)
        let needed = conditioning.rows.count
        guard needed <= rows, conditioning.layout.slots <= slots else {
            throw ContinuousBatchError.doesNotFit(rows: needed, slots: conditioning.layout.slots, batchRows: rows, batchSlots: slots)
        }
        let free = owner.indices.filter { owner[$0] == nil }
        guard free.count >= needed else { return false }
        let taken = Array(free.prefix(needed))
        for r in taken { cache.reset(rows: r..<(r + 1)) }
        var image = ImageInFlight(schedule: schedule, options: options, conditioning: conditioning, cacheRows: taken,
                                  rejectAllDrafts: generator.rejectAllDrafts, noiseIgnoresPosition: generator.noiseIgnoresPosition)
        for (r, row) in zip(taken, conditioning.rows) {
            conditions[r] = row
            owner[r] = id
        }
        _ = image.advance()
        images.append(image)
        ids.append(id)
        return true
    }

    /// Takes an image out of the batch (cancelled); its rows are free for the next `admit`.
    public func remove(_ id: ID) {
        guard let i = ids.firstIndex(of: id) else { return }
        release(i)
    }

    /// Runs one pass of every image in the batch and returns the images whose last pass it was (they leave
    /// the batch), in admission order.
    public func step() -> [(id: ID, result: GenerationResult)] {
        var finished: [(id: ID, result: GenerationResult)] = []
        let active = images.indices.filter { images[$0].pass != nil }
        if !active.isEmpty { _ = generator.runPlanned(&images, active: active, conditions: conditions, cache: cache) }
        var i = 0
        while i < images.count {
            if images[i].advance() {
                i += 1
            } else {
                finished.append((ids[i], images[i].result()))
                release(i)
            }
        }
        return finished
    }

    private func release(_ i: Int) {
        for r in owner.indices where owner[r] == ids[i] {
            owner[r] = nil
            conditions[r] = []
        }
        images.remove(at: i)
        ids.remove(at: i)
    }
}

public enum ContinuousBatchError: Error, CustomStringConvertible, Equatable {
    /// The image needs more cache rows or slots than the batch was made with.
    case doesNotFit(rows: Int, slots: Int, batchRows: Int, batchSlots: Int)

    public var description: String {
        switch self {
        case let .doesNotFit(r, s, br, bs):
            return "the image needs \(r) cache rows and \(s) slots; the batch has \(br) rows of \(bs) slots"
        }
    }
}
