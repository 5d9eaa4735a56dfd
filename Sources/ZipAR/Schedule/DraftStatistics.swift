/// Where a draft of `zipar-lossless` came from.
public enum DraftSource: String, CaseIterable, Codable, Sendable {
    /// A free copy (the token above, else the one to the left) put in the verification window.
    case free
    /// Picked from a verification-window output after the chain of commits stopped (a stale exact output).
    case window
    /// Picked by a wavefront draft input (ZipAR's frontier of a row below, any view).
    case wavefront
}

/// How often the drafts a lossless schedule verified matched the committed (raster) token, by source and
/// by age (the number of model predictions that made the draft: 0 for a free copy).
public struct DraftStatistics: Codable, Sendable, Equatable {
    /// Drafts verified and drafts that matched.
    public struct Count: Codable, Sendable, Equatable {
        public var verified = 0, matched = 0
        public init() {}
        /// matched / verified (0 when nothing was verified).
        public var rate: Double { verified == 0 ? 0 : Double(matched) / Double(verified) }
        mutating func add(_ other: Count) { verified += other.verified; matched += other.matched }
    }
    /// Ages from this one on share the last bucket of `by_age`.
    public static let oldestAge = 8
    public var by_source: [String: Count] = [:]
    public var by_age: [Count] = Array(repeating: Count(), count: DraftStatistics.oldestAge + 1)

    public init() {}

    /// Every draft verified, whatever its source.
    public var total: Count {
        var c = Count()
        by_source.values.forEach { c.add($0) }
        return c
    }

    mutating func record(source: DraftSource, age: Int, matched: Bool) {
        by_source[source.rawValue, default: Count()].verified += 1
        by_age[min(age, DraftStatistics.oldestAge)].verified += 1
        if matched {
            by_source[source.rawValue]!.matched += 1
            by_age[min(age, DraftStatistics.oldestAge)].matched += 1
        }
    }

    /// These counts plus those of `other` (statistics over several images).
    public func adding(_ other: DraftStatistics) -> DraftStatistics {
        var sum = self
        for (k, v) in other.by_source { sum.by_source[k, default: Count()].add(v) }
        for i in sum.by_age.indices { sum.by_age[i].add(other.by_age[i]) }
        return sum
    }
}
