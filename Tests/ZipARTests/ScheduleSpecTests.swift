import XCTest
@testable import ZipAR

/// Schedules by name: the text forms round-trip, defaults are half the width, every bad size is an error
/// that says which part is wrong, and each spec's schedule takes the passes its formula gives.
final class ScheduleSpecTests: XCTestCase {
    func testTextFormsRoundTrip() throws {
        let specs = try ScheduleSpec.parseList("raster, zipar:1,zipar:16,zipar-adaptive:2,zipar-adaptive:15,zipar-reference:2,zipar-reference:15,zipar-lossless:16:2:16,zipar-lossless:1:1:0",
                                               width: 16)
        XCTAssertEqual(specs, [.raster, .zipar(window: 1, rowStart: .placeholder), .zipar(window: 16, rowStart: .placeholder),
                               .ziparAdaptive(minWindow: 2, rowStart: .placeholder), .ziparAdaptive(minWindow: 15, rowStart: .placeholder),
                               .ziparReference(window: 2), .ziparReference(window: 15),
                               .ziparLossless(verifyWindow: 16, draftLag: 2, draftRows: 16), .ziparLossless(verifyWindow: 1, draftLag: 1, draftRows: 0)])
        XCTAssertEqual(try ScheduleSpec.parse("zipar-lossless:5", width: 12), .ziparLossless(verifyWindow: 5, draftLag: 2, draftRows: 0))
        XCTAssertEqual(try ScheduleSpec.make(name: "zipar-lossless", width: 12, lossless: LosslessOptions(draftLag: 3)),
                       .ziparLossless(verifyWindow: 2, draftLag: 3, draftRows: 0))
        XCTAssertEqual(Set(specs.map { String($0.description.split(separator: ":")[0]) }), Set(ScheduleSpec.names))
        for spec in specs { XCTAssertEqual(try ScheduleSpec.parse(spec.description, width: 16), spec) }
        XCTAssertEqual(try ScheduleSpec.make(name: "zipar", width: 8, window: 3, rowStart: .shared), .zipar(window: 3, rowStart: .shared))
        XCTAssertEqual(ScheduleSpec.zipar(window: 3, rowStart: .shared).withRowStart(.neighbour), .zipar(window: 3, rowStart: .neighbour))
        XCTAssertEqual(ScheduleSpec.ziparReference(window: 3).withRowStart(.neighbour), .ziparReference(window: 3))
    }

    /// No number: half the width (zipar at least 1, the others at least 2, the smallest valid sizes);
    /// zipar-lossless: `LosslessDefaults`.
    func testDefaultWindowsAreHalfTheWidth() throws {
        for (width, expected) in [(16, "raster,zipar:8,zipar-adaptive:8,zipar-reference:8,zipar-lossless:2:2:0"),
                                  (12, "raster,zipar:6,zipar-adaptive:6,zipar-reference:6,zipar-lossless:2:2:0"),
                                  (3, "raster,zipar:1,zipar-adaptive:2,zipar-reference:2,zipar-lossless:2:1:0")] {
            let byName = try ScheduleSpec.names.map { try ScheduleSpec.make(name: $0, width: width) }
            XCTAssertEqual(byName.map(\.description).joined(separator: ","), expected, "width \(width)")
            XCTAssertEqual(try ScheduleSpec.parseList(ScheduleSpec.names.joined(separator: ","), width: width), byName)
        }
        XCTAssertEqual(try ScheduleSpec.make(name: "zipar", width: 2), .zipar(window: 1, rowStart: .placeholder))
    }

    func testBadSpecsSayWhy() {
        let cases: [(String, Int, String, ScheduleSpecError.Part)] = [
            ("zipar:0", 16, "outside 1…16", .window), ("zipar:17", 16, "outside 1…16", .window),
            ("zipar-reference:1", 16, "outside 2…15", .window), ("zipar-reference:16", 16, "outside 2…15", .window),
            ("zipar-adaptive:1", 16, "outside 2…15", .minWindow), ("zipar-adaptive:16", 16, "outside 2…15", .minWindow),
            ("zipar-reference", 2, "at least 3 tokens wide", .name), ("zipar-adaptive:2", 2, "at least 3 tokens wide", .name),
            ("raster:3", 16, "raster takes no number", .name), ("diagonal", 16, "'diagonal' is not a schedule", .name),
            ("", 16, "'' is not a schedule", .name), ("zipar:x", 16, "not a whole number", .name), ("zipar:1:2", 16, "NAME:NUMBER", .name),
            ("zipar-lossless:0", 4, "verification window 0 is outside 1…16", .verifyWindow),
            ("zipar-lossless:4:5:1", 4, "draft lag 5 is outside 1…4", .draftLag),
            ("zipar-lossless:4:1:5", 4, "draft rows 5 is outside 0…4", .draftRows),
            ("zipar-lossless:4:1", 4, "zipar-lossless:K:LAG:ROWS", .name),
        ]
        for (text, width, message, part) in cases {
            XCTAssertThrowsError(try ScheduleSpec.parse(text, width: width), text) {
                XCTAssertTrue("\($0)".contains(message), "\(text): \($0)")
                XCTAssertEqual(($0 as? ScheduleSpecError)?.about, part, text)
            }
        }
        XCTAssertThrowsError(try ScheduleSpec.parseList("raster,,zipar", width: 16))
        let misplaced: [(() throws -> ScheduleSpec, String, ScheduleSpecError.Part)] = [
            ({ try ScheduleSpec.make(name: "raster", width: 8, window: 2) }, "the window applies", .window),
            ({ try ScheduleSpec.make(name: "zipar-adaptive", width: 8, window: 2) }, "takes a minimum window", .window),
            ({ try ScheduleSpec.make(name: "zipar", width: 8, minWindow: 2) }, "minimum window applies", .minWindow),
            ({ try ScheduleSpec.make(name: "zipar-reference", width: 8, rowStart: .shared) }, "row start applies", .rowStart),
            ({ try ScheduleSpec.make(name: "diagonal", width: 8, window: 2) }, "not a schedule", .name),
            ({ try ScheduleSpec.make(name: "zipar", width: 8, lossless: LosslessOptions(draftRows: 2)) }, "zipar-lossless only", .draftRows),
            ({ try ScheduleSpec.make(name: "zipar-lossless", width: 8, window: 2) }, "the window applies", .window),
        ]
        for (make, message, part) in misplaced {
            XCTAssertThrowsError(try make()) {
                XCTAssertTrue("\($0)".contains(message), "\($0)")
                XCTAssertEqual(($0 as? ScheduleSpecError)?.about, part, message)
            }
        }
    }

    /// raster H·W, zipar W + (H−1)·w, zipar-reference 2W + (H−2)·w passes (prefill included), zipar-adaptive
    /// W + (H−1)·s with every draft accepted; every grid from 3×3 to 12×12 and every valid size.
    func testSchedulesTakeTheirFormulasPasses() throws {
        for h in 3...12 {
            for w in 3...12 {
                let layout = SequenceLayout(conditionTokens: 1, height: h, width: w)
                var specs: [(ScheduleSpec, Int)] = [(.raster, h * w)]
                for win in 1...w { specs.append((try ScheduleSpec.parse("zipar:\(win)", width: w), w + (h - 1) * win)) }
                for win in 2...(w - 1) {
                    specs.append((try ScheduleSpec.parse("zipar-reference:\(win)", width: w), 2 * w + (h - 2) * win))
                    specs.append((try ScheduleSpec.parse("zipar-adaptive:\(win)", width: w), w + (h - 1) * win))
                }
                for (spec, passes) in specs {
                    var schedule = spec.schedule(layout: layout)
                    XCTAssertEqual(drive(&schedule, height: h, width: w).count, passes, "\(spec) on \(h)×\(w)")
                }
            }
        }
    }
}
