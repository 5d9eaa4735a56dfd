import Foundation

/// A decoding schedule as the benchmark names it: "raster" or "zipar-reference:W" (W the window).
public enum BenchmarkSchedule: Equatable, Sendable, CustomStringConvertible {
    case raster
    case ziparReference(window: Int)

    /// Parses a comma-separated list ("raster,zipar-reference:8,zipar-reference:4") and checks each
    /// window against a grid `width` tokens wide. The error says which entry is wrong and why.
    public static func parseList(_ text: String, width: Int) throws -> [BenchmarkSchedule] {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        return try names.map { try parse($0, width: width) }
    }

    /// Parses one name; see `parseList`.
    public static func parse(_ name: String, width: Int) throws -> BenchmarkSchedule {
        if name == "raster" { return .raster }
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "zipar-reference", let window = Int(parts[1]) else {
            throw BenchmarkError("'\(name)' is not a schedule (expected raster or zipar-reference:W, W the window)")
        }
        guard let range = ZipARReferenceSchedule.validWindows(width: width), range.contains(window) else {
            let valid = ZipARReferenceSchedule.validWindows(width: width).map { "\($0.lowerBound)…\($0.upperBound)" } ?? "none"
            throw BenchmarkError("'\(name)': window \(window) is not valid on a \(width)-wide grid (valid: \(valid))")
        }
        return .ziparReference(window: window)
    }

    public var description: String {
        switch self {
        case .raster: return "raster"
        case .ziparReference(let w): return "zipar-reference:\(w)"
        }
    }

    /// A fresh schedule for one image.
    func make(layout: SequenceLayout) -> any DecodingSchedule {
        switch self {
        case .raster: return RasterSchedule(layout: layout)
        case .ziparReference(let w): return ZipARReferenceSchedule(layout: layout, window: w)
        }
    }
}

/// A benchmark request that cannot run, in one line.
public struct BenchmarkError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
