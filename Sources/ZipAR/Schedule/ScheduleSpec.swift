/// A decoding schedule by name and size, checked against a grid width, before any image exists:
/// what the command line, the benchmark and the quality evaluation name, and what makes a fresh
/// schedule for each image.
///
/// Text form (`parse`): `raster`, `zipar:W`, `zipar-adaptive:S`, `zipar-reference:W` (W the window,
/// S the minimum window; a missing number means half the grid width), `zipar-lossless`,
/// `zipar-lossless:K` or `zipar-lossless:K:L:R` (verification window K, draft lag L, draft rows R;
/// missing numbers take `LosslessDefaults`).
public enum ScheduleSpec: Equatable, Hashable, Sendable, CustomStringConvertible {
    case raster
    case zipar(window: Int, rowStart: RowStart)
    case ziparAdaptive(minWindow: Int, rowStart: RowStart)
    case ziparReference(window: Int)
    case ziparLossless(verifyWindow: Int, draftLag: Int, draftRows: Int)

    /// The schedule names `parse` knows.
    public static let names = ["raster", "zipar", "zipar-adaptive", "zipar-reference", "zipar-lossless"]

    /// Builds a spec from a name and optional sizes, checking each against a grid `width` tokens wide
    /// (`lineEnd`: rows end in an end-of-line token, which zipar-reference's window counts, as the released
    /// Lumina-mGPT code does). `window` applies to zipar and zipar-reference, `minWindow` to zipar-adaptive,
    /// `rowStart` to zipar and zipar-adaptive, `lossless` to zipar-lossless (a grid `height` rows high, by
    /// default square); an option given to a schedule that does not take it is an error.
    public static func make(name: String, width: Int, height: Int? = nil, window: Int? = nil, minWindow: Int? = nil,
                            rowStart: RowStart? = nil, lossless: LosslessOptions = LosslessOptions(),
                            lineEnd: Bool = false) throws -> ScheduleSpec {
        guard names.contains(name) else { throw ScheduleSpecError("'\(name)' is not a schedule (expected \(names.joined(separator: ", ")))") }
        if window != nil && !["zipar", "zipar-reference"].contains(name) {
            throw ScheduleSpecError("the window applies to zipar and zipar-reference (zipar-adaptive takes a minimum window)", about: .window)
        }
        if minWindow != nil && name != "zipar-adaptive" { throw ScheduleSpecError("the minimum window applies to zipar-adaptive only", about: .minWindow) }
        if rowStart != nil && !["zipar", "zipar-adaptive"].contains(name) {
            throw ScheduleSpecError("the row start applies to zipar and zipar-adaptive only", about: .rowStart)
        }
        if !lossless.isEmpty && name != "zipar-lossless" {
            throw ScheduleSpecError("the verification window, draft lag and draft rows apply to zipar-lossless only",
                                    about: lossless.verifyWindow != nil ? .verifyWindow : lossless.draftLag != nil ? .draftLag : .draftRows)
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
        case "zipar-lossless":
            let h = height ?? width, defaults = LosslessDefaults(width: width, height: h)
            let k = lossless.verifyWindow ?? defaults.verifyWindow, lag = lossless.draftLag ?? defaults.draftLag
            let rows = lossless.draftRows ?? defaults.draftRows
            try check(k, in: ZipARLosslessSchedule.validWindows(cells: width * h), what: .verifyWindow, schedule: name, width: width)
            try check(lag, in: ZipARLosslessSchedule.validLags(width: width), what: .draftLag, schedule: name, width: width)
            try check(rows, in: ZipARLosslessSchedule.validDraftRows(height: h), what: .draftRows, schedule: name, width: width)
            return .ziparLossless(verifyWindow: k, draftLag: lag, draftRows: rows)
        default:  // zipar-reference
            let w = window ?? max(2, width / 2)
            let range = lineEnd ? LineEndReferenceSchedule.validWindows(width: width) : ZipARReferenceSchedule.validWindows(width: width)
            try check(w, in: range, what: .window, schedule: name, width: width)
            return .ziparReference(window: w)
        }
    }

    /// Parses one text form (see the type's comment) for a grid `width` tokens wide (`lineEnd` as in `make`).
    public static func parse(_ text: String, width: Int, lineEnd: Bool = false) throws -> ScheduleSpec {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let lossless = parts[0] == "zipar-lossless"
        guard parts.count <= 2 || (lossless && parts.count == 4) else {
            throw ScheduleSpecError(lossless ? "'\(text)': expected zipar-lossless, zipar-lossless:K or zipar-lossless:K:LAG:ROWS"
                                             : "'\(text)': expected NAME or NAME:NUMBER")
        }
        var numbers: [Int] = []
        for part in parts.dropFirst() {
            guard let n = Int(part) else { throw ScheduleSpecError("'\(text)': '\(part)' is not a whole number") }
            numbers.append(n)
        }
        let size = numbers.first
        do {
            switch parts[0] {
            case "raster":
                guard size == nil else { throw ScheduleSpecError("raster takes no number") }
                return .raster
            case "zipar-adaptive": return try make(name: parts[0], width: width, minWindow: size, lineEnd: lineEnd)
            case "zipar-lossless":
                let options = LosslessOptions(verifyWindow: size, draftLag: numbers.count > 1 ? numbers[1] : nil,
                                              draftRows: numbers.count > 2 ? numbers[2] : nil)
                return try make(name: parts[0], width: width, lossless: options, lineEnd: lineEnd)
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
        case let .ziparLossless(k, lag, rows): return "zipar-lossless:\(k):\(lag):\(rows)"
        }
    }

    /// This spec with row start `start` where it has one (zipar, zipar-adaptive); others unchanged.
    public func withRowStart(_ start: RowStart) -> ScheduleSpec {
        switch self {
        case .zipar(let w, _): return .zipar(window: w, rowStart: start)
        case .ziparAdaptive(let s, _): return .ziparAdaptive(minWindow: s, rowStart: start)
        case .raster, .ziparReference, .ziparLossless: return self
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
        case let .ziparLossless(k, lag, rows):
            return ZipARLosslessSchedule(layout: layout, verifyWindow: k, draftLag: lag, draftRows: rows, cfgInterval: cfgInterval)
        }
    }

    private static func check(_ value: Int, in range: ClosedRange<Int>?, what: ScheduleSpecError.Part, schedule: String,
                              width: Int) throws {
        guard let range else {
            throw ScheduleSpecError("\(schedule) needs a grid at least 3 tokens wide (this one is \(width))", about: .name)
        }
        guard range.contains(value) else {
            let noun: String
            switch what {
            case .window: noun = "window"
            case .minWindow: noun = "minimum window"
            case .verifyWindow: noun = "verification window"
            case .draftLag: noun = "draft lag"
            case .draftRows: noun = "draft rows"
            case .name, .rowStart: noun = "value"
            }
            throw ScheduleSpecError("\(noun) \(value) is outside \(range.lowerBound)…\(range.upperBound) for \(schedule) on a \(width)-wide grid", about: what)
        }
    }
}

/// A schedule name or size that cannot be used, in one line, and which part of the spec is wrong (so a
/// command line can name its flag).
public struct ScheduleSpecError: Error, CustomStringConvertible, Equatable {
    public enum Part: Sendable { case name, window, minWindow, rowStart, verifyWindow, draftLag, draftRows }
    public let description: String
    public let about: Part

    public init(_ description: String, about: Part = .name) {
        self.description = description
        self.about = about
    }
}

/// zipar-lossless's sizes as given (nil: not given, `LosslessDefaults` applies).
public struct LosslessOptions: Equatable, Sendable {
    public var verifyWindow: Int?, draftLag: Int?, draftRows: Int?

    public init(verifyWindow: Int? = nil, draftLag: Int? = nil, draftRows: Int? = nil) {
        self.verifyWindow = verifyWindow
        self.draftLag = draftLag
        self.draftRows = draftRows
    }

    /// True when no size is given.
    var isEmpty: Bool { verifyWindow == nil && draftLag == nil && draftRows == nil }
}

/// zipar-lossless's default sizes for a grid, chosen by measured seconds (docs/schedules.md,
/// "zipar-lossless"): on the 2-core CPU a pass costs about its inputs beyond two (the glyph model: every
/// input; GPT-B: cost(2) = 1.1 × cost(1), cost(4) = 1.6 ×, cost(12) = 3.3–4.4 ×), so the fewest seconds
/// come from a window of 2 with no wavefront inputs (0.70× raster's passes). Hardware where a pass is
/// bandwidth-bound up to many inputs wants `--verify-window` W or more (0.30× the passes on the glyph model).
public struct LosslessDefaults: Equatable, Sendable {
    public let verifyWindow: Int, draftLag: Int, draftRows: Int

    public init(width: Int, height: Int) {
        verifyWindow = min(2, width * height)
        draftLag = max(1, width / 6)
        draftRows = 0
    }
}
