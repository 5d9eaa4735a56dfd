/// A decoding schedule by name and size, checked against a grid width, before any image exists:
/// what the command line, the benchmark and the quality evaluation name, and what makes a fresh
/// schedule for each image.
///
/// Text form (`parse`): `raster`, `zipar:W`, `zipar-adaptive:S`, `zipar-reference:W` (W the window,
/// S the minimum window); a missing number means half the grid width.
public enum ScheduleSpec: Equatable, Hashable, Sendable, CustomStringConvertible {
    case raster
    case zipar(window: Int, rowStart: RowStart)
    case ziparAdaptive(minWindow: Int, rowStart: RowStart)
    case ziparReference(window: Int)

    /// The schedule names `parse` knows.
    public static let names = ["raster", "zipar", "zipar-adaptive", "zipar-reference"]

    /// Builds a spec from a name and optional sizes, checking each against a grid `width` tokens wide
    /// (`lineEnd`: rows end in an end-of-line token, which zipar-reference's window counts, as the released
    /// Lumina-mGPT code does). `window` applies to zipar and zipar-reference, `minWindow` to zipar-adaptive,
    /// `rowStart` to zipar and zipar-adaptive; an option given to a schedule that does not take it is an error.
    public static func make(name: String, width: Int, window: Int? = nil, minWindow: Int? = nil,
                            rowStart: RowStart? = nil, lineEnd: Bool = false) throws -> ScheduleSpec {
        guard names.contains(name) else { throw ScheduleSpecError("'\(name)' is not a schedule (expected \(names.joined(separator: ", ")))") }
        if window != nil && !["zipar", "zipar-reference"].contains(name) {
            throw ScheduleSpecError("the window applies to zipar and zipar-reference (zipar-adaptive takes a minimum window)", about: .window)
        }
        if minWindow != nil && name != "zipar-adaptive" { throw ScheduleSpecError("the minimum window applies to zipar-adaptive only", about: .minWindow) }
        if rowStart != nil && !["zipar", "zipar-adaptive"].contains(name) {
            throw ScheduleSpecError("the row start applies to zipar and zipar-adaptive only", about: .rowStart)
        }
        let start = rowStart ?? .placeholder
        switch name {
        case "raster":
            return .raster
        case "zipar":
            let range = ZipARSchedule.validWindows(width: width), w = window ?? max(1, width / 2)
            try check(w, in: range, what: .window, schedule: name, width: width)
            return .zipar(window: w, rowStart: start)
        case "zipar-adaptive":
            let s = minWindow ?? max(2, width / 2)
            try check(s, in: ZipARAdaptiveSchedule.validMinWindows(width: width), what: .minWindow, schedule: name, width: width)
            return .ziparAdaptive(minWindow: s, rowStart: start)
        default:  // zipar-reference, the last of `names`
            let w = window ?? max(2, width / 2)
            let range = lineEnd ? LineEndReferenceSchedule.validWindows(width: width) : ZipARReferenceSchedule.validWindows(width: width)
            try check(w, in: range, what: .window, schedule: name, width: width)
            return .ziparReference(window: w)
        }
    }

    /// Parses one text form (see the type's comment) for a grid `width` tokens wide (`lineEnd` as in `make`).
    public static func parse(_ text: String, width: Int, lineEnd: Bool = false) throws -> ScheduleSpec {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else { throw ScheduleSpecError("'\(text)': expected NAME or NAME:NUMBER") }
        var size: Int?
        if parts.count == 2 {
            guard let n = Int(parts[1]) else { throw ScheduleSpecError("'\(text)': '\(parts[1])' is not a whole number") }
            size = n
        }
        do {
            switch parts[0] {
            case "raster":
                guard size == nil else { throw ScheduleSpecError("raster takes no number") }
                return .raster
            case "zipar-adaptive": return try make(name: parts[0], width: width, minWindow: size, lineEnd: lineEnd)
            default: return try make(name: parts[0], width: width, window: size, lineEnd: lineEnd)
            }
        } catch let error as ScheduleSpecError {
            throw ScheduleSpecError(parts.count == 2 ? "'\(text)': \(error.description)" : error.description, about: error.about)
        }
    }

    /// Parses a comma-separated list of text forms ("raster,zipar:4,zipar-reference:8").
    public static func parseList(_ text: String, width: Int, lineEnd: Bool = false) throws -> [ScheduleSpec] {
        try text.split(separator: ",", omittingEmptySubsequences: false)
            .map { try parse($0.trimmingCharacters(in: .whitespaces), width: width, lineEnd: lineEnd) }
    }

    /// The text form; `parse(description)` gives this spec back (the row start is not part of it).
    public var description: String {
        switch self {
        case .raster: return "raster"
        case .zipar(let w, _): return "zipar:\(w)"
        case .ziparAdaptive(let s, _): return "zipar-adaptive:\(s)"
        case .ziparReference(let w): return "zipar-reference:\(w)"
        }
    }

    /// This spec with row start `start` where it has one (zipar, zipar-adaptive); others unchanged.
    public func withRowStart(_ start: RowStart) -> ScheduleSpec {
        switch self {
        case .zipar(let w, _): return .zipar(window: w, rowStart: start)
        case .ziparAdaptive(let s, _): return .ziparAdaptive(minWindow: s, rowStart: start)
        case .raster, .ziparReference: return self
        }
    }

    /// A fresh schedule for one image (zipar-reference on a layout with line ends: the released Lumina-mGPT
    /// code's, `LineEndReferenceSchedule`).
    public func schedule(layout: SequenceLayout, cfgInterval: Int = -1) -> any DecodingSchedule {
        switch self {
        case .raster: return RasterSchedule(layout: layout, cfgInterval: cfgInterval)
        case let .zipar(w, start): return ZipARSchedule(layout: layout, window: w, rowStart: start, cfgInterval: cfgInterval)
        case let .ziparAdaptive(s, start):
            return ZipARAdaptiveSchedule(layout: layout, minWindow: s, rowStart: start, cfgInterval: cfgInterval)
        case .ziparReference(let w):
            if layout.hasLineEnd { return LineEndReferenceSchedule(layout: layout, window: w, cfgInterval: cfgInterval) }
            return ZipARReferenceSchedule(layout: layout, window: w, cfgInterval: cfgInterval)
        }
    }

    private static func check(_ value: Int, in range: ClosedRange<Int>?, what: ScheduleSpecError.Part, schedule: String,
                              width: Int) throws {
        guard let range else {
            throw ScheduleSpecError("\(schedule) needs a grid at least 3 tokens wide (this one is \(width))", about: .name)
        }
        guard range.contains(value) else {
            let noun = what == .window ? "window" : "minimum window"
            throw ScheduleSpecError("\(noun) \(value) is outside \(range.lowerBound)…\(range.upperBound) for \(schedule) on a \(width)-wide grid", about: what)
        }
    }
}

/// A schedule name or size that cannot be used, in one line, and which part of the spec is wrong (so a
/// command line can name its flag).
public struct ScheduleSpecError: Error, CustomStringConvertible, Equatable {
    public enum Part: Sendable { case name, window, minWindow, rowStart }
    public let description: String
    public let about: Part

    public init(_ description: String, about: Part = .name) {
        self.description = description
        self.about = about
    }
}
