import Foundation

/// A job running in this process: its progress, its finished images, the frames of its event stream so far
/// (so a client that reconnects with `Last-Event-ID` gets what it missed) and who listens. Used only inside
/// the `JobQueue` actor.
final class LiveJob {
    var record: JobRecord
    var task: Task<Void, Never>?
    var cancelRequested = false
    /// Each image's latest progress and, once done, its stored form.
    var progress: [ImageProgress?]
    var images: [ImageRecord?]
    private var frames: [(seq: Int, frame: String)] = []
    private(set) var subscribers: [UUID: AsyncStream<String>.Continuation] = [:]

    init(record: JobRecord, images: Int) {
        self.record = record
        progress = [ImageProgress?](repeating: nil, count: images)
        self.images = [ImageRecord?](repeating: nil, count: images)
    }

    /// Appends an event (id `attempt.seq`) and sends it to every listener.
    func emit(_ name: String, _ data: some Encodable) {
        guard let event = try? SSE.event(name, data) else { return }
        let seq = (frames.last?.seq ?? 0) + 1
        let frame = "id: \(record.attempt).\(seq)\n" + event
        frames.append((seq, frame))
        for listener in subscribers.values { listener.yield(frame) }
    }

    /// Adds a listener; it first gets the frames after `lastEventID` (all of them when the id is of another
    /// attempt, or none is given).
    func attach(_ id: UUID, _ listener: AsyncStream<String>.Continuation, after lastEventID: String?) {
        var after = 0
        if let lastEventID, let dot = lastEventID.firstIndex(of: "."), Int(lastEventID[..<dot]) == record.attempt {
            after = Int(lastEventID[lastEventID.index(after: dot)...]) ?? 0
        }
        for (seq, frame) in frames where seq > after { listener.yield(frame) }
        subscribers[id] = listener
    }

    func detach(_ id: UUID) { subscribers[id] = nil }

    /// Passes (the most of any image) and tokens over the job's images.
    func totals(gridCells: Int) -> JobObject.Progress {
        JobObject.Progress(passes: progress.map { $0?.pass ?? 0 }.max() ?? 0,
                           tokens: progress.reduce(0) { $0 + ($1?.tokens ?? 0) },
                           total_tokens: progress.reduce(0) { $0 + ($1?.totalTokens ?? gridCells) })
    }
}
