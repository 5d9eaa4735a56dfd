/// What a generation reports as it goes.
public enum GenerationEvent: Sendable {
    /// A pass finished.
    case progress(GenerationProgress)
    /// The grid is complete.
    case finished(GenerationResult)
}

extension ImageGenerator {
    /// Generation as an asynchronous stream of events: one `.progress` per pass, then `.finished`.
    /// Cancelling the consuming task (or dropping the stream) stops the generation after the current pass.
    public func events(schedule: some DecodingSchedule, options: GenerationOptions) -> AsyncThrowingStream<GenerationEvent, Error> {
        let generator = UncheckedBox(self)
        return AsyncThrowingStream { continuation in
            let task = Task.detached {
                var schedule = schedule
                do {
                    let result = try generator.value.generate(schedule: &schedule, options: options) { progress in
                        continuation.yield(.progress(progress))
                        return !Task.isCancelled
                    }
                    continuation.yield(.finished(result))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// Hands a non-Sendable reference to one detached task that alone uses it.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
