import XCTest
@testable import ZipAR

/// Runs a schedule to the end without a model, giving every sampled token (draft or settled) the value of its
/// own cell; `accept(cell)` decides each verification (a last one settles the cell either way). Checks that no
/// cell is settled twice, that under `.writtenCausal` (attention sees only tokens that exist) every input
/// that writes the cache feeds its own cell's token or draft, and that the grid ends complete. Returns the
/// passes.
func drive(_ schedule: inout some DecodingSchedule, height: Int, width: Int, conditionTokens: Int = 1,
           accept: (Int) -> Bool = { _ in true }) -> [DecodingPass] {
    var grid = TokenGrid(height: height, width: width)
    var passes: [DecodingPass] = []
    while let pass = schedule.nextPass(grid), passes.count <= height * width {
        for input in pass.inputs where input.writesCache && pass.visibility == .writtenCausal {
            guard case .token(let t) = input.source else { continue }
            let cell = input.position - conditionTokens
            XCTAssertTrue(grid[cell] == t || grid.drafts[cell] == t, "pass \(passes.count) feeds \(t) at cell \(cell)")
        }
        var accepted: Set<Int> = []
        for p in pass.predictions {
            if let draft = p.ifAccepted, !accepted.contains(draft) { continue }
            XCTAssertNil(grid[p.cell], "cell \(p.cell) predicted twice")
            switch p.kind {
            case .sample: grid[p.cell] = p.cell
            case .draft: grid.drafts[p.cell] = p.cell
            case .verify(let last):
                let ok = accept(p.cell)
                if ok { accepted.insert(p.cell) }
                if ok || last {
                    grid[p.cell] = p.cell
                    grid.drafts[p.cell] = nil
                }
            }
        }
        schedule.passDidFinish(pass, grid: grid)
        passes.append(pass)
    }
    XCTAssertTrue(grid.isComplete)
    return passes
}

/// Schedules driven without a model: every cell is filled exactly once, each pass only predicts cells whose
/// inputs exist, and pass counts follow the formulas.
final class ScheduleTests: XCTestCase {
    func testRasterPasses() {
        for side in 1...24 {
            let layout = SequenceLayout(conditionTokens: 1, height: side, width: side)
            var s = RasterSchedule(layout: layout)
            let passes = drive(&s, height: side, width: side)
            XCTAssertEqual(passes.count, side * side)
            // pass k feeds token k−1 at its own position
            for (k, pass) in passes.enumerated().dropFirst() {
                XCTAssertEqual(pass.inputs, [ModelInput(.token(k - 1), position: k)])
            }
        }
    }

    /// zipar-reference: 2W + (H − 2)·w passes for every square grid 3…24 and window 2…W−1.
    func testZipARReferencePassFormula() {
        for side in 3...24 {
            for w in ZipARReferenceSchedule.validWindows(width: side)! {
                let layout = SequenceLayout(conditionTokens: 1, height: side, width: side)
                var s = ZipARReferenceSchedule(layout: layout, window: w)
                let passes = drive(&s, height: side, width: side)
                XCTAssertEqual(passes.count, 2 * side + (side - 2) * w, "\(side)×\(side) w=\(w)")
            }
        }
        XCTAssertNil(ZipARReferenceSchedule.validWindows(width: 2))
    }

    /// The placeholders of the released code, on the example of the docs: 16×16, w = 4, row 3 opens with a
    /// copy of (1, 7) at the slot of (2, 15); row 2 with (0, 15) at the slot of (1, 15).
    func testZipARReferencePlaceholders() {
        let layout = SequenceLayout(conditionTokens: 1, height: 16, width: 16)
        var s = ZipARReferenceSchedule(layout: layout, window: 4)
        let passes = drive(&s, height: 16, width: 16)  // tokens equal their cell index
        func opening(_ row: Int) -> ModelInput? {
            for pass in passes {
                if let p = pass.predictions.first(where: { $0.cell == row * 16 }) { return pass.inputs[p.input] }
            }
            return nil
        }
        XCTAssertEqual(opening(2), ModelInput(.token(0 * 16 + 15), position: 1 + 1 * 16 + 15))
        XCTAssertEqual(opening(3), ModelInput(.token(1 * 16 + 7), position: 1 + 2 * 16 + 15))
        XCTAssertEqual(opening(1), ModelInput(.token(15), position: 1 + 15))
        // a completed row's real last token is fed (unsampled) in the next pass
        let fed = passes.flatMap(\.inputs)
        XCTAssertTrue(fed.contains(ModelInput(.token(1 * 16 + 15), position: 1 + 1 * 16 + 15)))
    }
}
