import Foundation

/// The images waiting for a place in the running batch and the ids of those running, shared by the engine
/// (which queues and drops images) and the pass loop (which admits and finishes them), behind a lock.
final class WaitingQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Pending] = []
    private var running = Set<UInt64>()
    private var meanSeconds: Double?

    var count: Int { lock.withLock { items.count } }
    var runningCount: Int { lock.withLock { running.count } }
    var runningIDs: Set<UInt64> { lock.withLock { running } }
    var first: Pending? { lock.withLock { items.first } }
    /// Mean seconds from admission to finish of recent images (nil before the first).
    var secondsPerImage: Double? { lock.withLock { meanSeconds } }

    func append(_ pending: Pending) { lock.withLock { items.append(pending) } }

    /// Takes a waiting image out of the queue; nil when it is not waiting.
    func remove(_ id: UInt64) -> Pending? {
        lock.withLock {
            guard let i = items.firstIndex(where: { $0.id == id }) else { return nil }
            return items.remove(at: i)
        }
    }

    /// Moves a waiting image to the running set; false when it is no longer waiting.
    func start(_ id: UInt64) -> Bool {
        lock.withLock {
            guard let i = items.firstIndex(where: { $0.id == id }) else { return false }
            items.remove(at: i)
            running.insert(id)
            return true
        }
    }

    /// A running image is done (finished, failed or cancelled), after `seconds` when it finished.
    func finish(_ id: UInt64, seconds: Double? = nil) {
        lock.withLock {
            running.remove(id)
            if let seconds { meanSeconds = meanSeconds.map { 0.7 * $0 + 0.3 * seconds } ?? seconds }
        }
    }

    /// Takes out the waiting images whose deadline is at or before `now`.
    func removeExpired(at now: ContinuousClock.Instant) -> [Pending] {
        lock.withLock {
            let expired = items.filter { $0.deadline.map { $0 <= now } ?? false }
            if !expired.isEmpty { items.removeAll { $0.deadline.map { $0 <= now } ?? false } }
            return expired
        }
    }

    func isRunning(_ id: UInt64) -> Bool { lock.withLock { running.contains(id) } }

    /// Empties the queue, returning what waited.
    func removeAll() -> [Pending] {
        lock.withLock {
            defer { items.removeAll() }
            return items
        }
    }
}
