import XCTest
@testable import ZipAR

/// Schedules by name: the text forms round-trip, defaults are half the width, every bad size is an error
/// that says which, and each spec's schedule takes the passes its formula gives.
final class ScheduleSpecTests: XCTestCase {
    func testTextFormsRoundTrip() throws {
        let specs = try ScheduleSpec.parseList("raster, zipar:1,zipar:16,zipar-adaptive:2,zipar-reference:15", width: 16)
        XCTAssertEqual(specs, [.raster, .zipar(window: 1, rowStart: .placeholder), .zipar(window: 16, rowStart: .placeholder),
                               .ziparAdaptive(minWindow: 2, rowStart: .placeholder), .ziparReference(window: 15)])
        for spec in specs { XCTAssertEqual(try ScheduleSpec.parse(spec.description, width: 16), spec) }
        XCTAssertEqual(try ScheduleSpec.parseList("zipar,zipar-adaptive,zipar-reference", width: 12).map(\.description),
                       ["zipar:6", "zipar-adaptive:6", "zipar-reference:6"])
        XCTAssertEqual(try ScheduleSpec.make(name: "zipar", width: 8, window: 3, rowStart: .shared), .zipar(window: 3, rowStart: .shared))
    }

    func testBadSpecsSayWhy() {
        let cases: [(String, Int, String)] = [
            ("zipar:0", 16, "outside 1…16"), ("zipar:17", 16, "outside 1…16"), ("zipar-reference:16", 16, "outside 2…15"),
            ("zipar-reference:1", 16, "outside 2…15"), ("zipar-adaptive:1", 16, "outside 2…15"),
            ("zipar-reference", 2, "at least 3 tokens wide"), ("raster:3", 16, "raster takes no number"),
            ("diagonal", 16, "'diagonal' is not a schedule"), ("zipar:x", 16, "not a whole number"), ("zipar:1:2", 16, "NAME:NUMBER"),
        ]
        for (text, width, message) in cases {
            XCTAssertThrowsError(try ScheduleSpec.parse(text, width: width), text) { XCTAssertTrue("\($0)".contains(message), "\(text): \($0)") }
        }
        XCTAssertThrowsError(try ScheduleSpec.make(name: "raster", width: 8, window: 2)) { XCTAssertTrue("\($0)".contains("window")) }
        XCTAssertThrowsError(try ScheduleSpec.make(name: "zipar", width: 8, minWindow: 2)) { XCTAssertTrue("\($0)".contains("minimum window")) }
        XCTAssertThrowsError(try ScheduleSpec.make(name: "zipar-reference", width: 8, rowStart: .shared)) { XCTAssertTrue("\($0)".contains("row start")) }
    }

    /// raster H·W, zipar W + (H−1)·w, zipar-reference 2W + (H−2)·w passes (prefill included), every grid
    /// from 3×3 to 12×12 and every valid window.
    func testSchedulesTakeTheirFormulasPasses() throws {
        for h in 3...12 {
            for w in 3...12 {
                let layout = SequenceLayout(conditionTokens: 1, height: h, width: w)
                var specs: [(ScheduleSpec, Int)] = [(.raster, h * w)]
                for win in 1...w { specs.append((try ScheduleSpec.parse("zipar:\(win)", width: w), w + (h - 1) * win)) }
                for win in 2...(w - 1) { specs.append((try ScheduleSpec.parse("zipar-reference:\(win)", width: w), 2 * w + (h - 2) * win)) }
                for (spec, passes) in specs {
                    var schedule = spec.schedule(layout: layout)
                    XCTAssertEqual(drive(&schedule, height: h, width: w).count, passes, "\(spec) on \(h)×\(w)")
                }
            }
        }
    }
}
