/// A model that, before each pass, marks the KV slots of the passes a `PassPrefixSchedule` skipped as
/// written (their keys and values stay zero): attention then reads as many slots as at that point of a
/// real image, so the timed passes cost what they would there. Everything else is `inner`'s.
final class SkippedContextModel: ImageTokenModel {
    let inner: any ImageTokenModel
    let record: PassPrefixRecord

    init(_ inner: any ImageTokenModel, record: PassPrefixRecord) {
        self.inner = inner
        self.record = record
    }

    var imageVocabulary: Int { inner.imageVocabulary }
    var gridHeight: Int { inner.gridHeight }
    var gridWidth: Int { inner.gridWidth }
    var maxConditionTokens: Int { inner.maxConditionTokens }
    var precision: WeightPrecision { inner.precision }
    var weightBytes: Int { inner.weightBytes }
    var rowsEndInLineEnd: Bool { inner.rowsEndInLineEnd }

    func conditioning(_ condition: ImageCondition, guidance: Bool) throws -> Conditioning {
        try inner.conditioning(condition, guidance: guidance)
    }

    func conditioning(_ condition: ImageCondition, guidance: Bool, schedule: String) throws -> Conditioning {
        try inner.conditioning(condition, guidance: guidance, schedule: schedule)
    }

    func makeCache(batch: Int, slots: Int) -> KVCache { inner.makeCache(batch: batch, slots: slots) }

    func forward(batch: [BatchInput], conditions: [[Int]], cache: KVCache, logitsFor: [Int]) -> UnsafeBufferPointer<Float> {
        for slot in record.unmarkedSlots { cache.markWritten(slot: slot) }
        record.unmarkedSlots.removeAll()
        return inner.forward(batch: batch, conditions: conditions, cache: cache, logitsFor: logitsFor)
    }
}
