import XCTest
@testable import ZipAR

/// Runs a schedule to the end without a model, giving every sampled token (draft or settled) the value of its
/// own cell; `accept(cell)` decides each verification and whether a commit accepts the draft fed for its cell
/// (a last verification settles the cell either way). Checks that no cell is settled twice, that under
/// `.writtenCausal` (attention sees only tokens that exist) every input that writes the cache feeds its own
/// cell's token or draft (or, with `freeDrafts`, any token at a cell not settled yet), and that the grid ends
/// complete. Returns the passes.
func drive(_ schedule: inout some DecodingSchedule, height: Int, width: Int, conditionTokens: Int = 1, freeDrafts: Bool = false,
           accept: (Int) -> Bool = { _ in true }) -> [DecodingPass] {
    var grid = TokenGrid(height: height, width: width)
    var passes: [DecodingPass] = []
    while let pass = schedule.nextPass(grid), passes.count <= height * width {
        for input in pass.inputs where input.writesCache && pass.visibility == .writtenCausal {
            guard case .token(let t) = input.source else { continue }
            let cell = input.position - conditionTokens
            XCTAssertTrue(grid[cell] == t || grid.drafts[cell] == t || (freeDrafts && grid[cell] == nil),
                          "pass \(passes.count) feeds \(t) at cell \(cell)")
        }
        var accepted: Set<Int> = []
        for planned in pass.predictions {
            var p = planned
            if let draft = p.ifAccepted, !accepted.contains(draft) {
                guard case .commit = p.kind else { continue }
                p.kind = .draft
            }
            XCTAssertNil(grid[p.cell], "cell \(p.cell) predicted twice")
            switch p.kind {
            case .commit(let fed):
                grid[p.cell] = p.cell
                grid.drafts[p.cell] = nil
                if fed != nil && accept(p.cell) { accepted.insert(p.cell) }
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

    /// zipar-lossless without a model, on every grid 1×1…9×9 (a condition of 3 tokens) and a spread of
    /// windows, lags and draft rows: every draft accepted gives 1 + ⌈(N−1)/K⌉ passes, none accepted N; each
    /// pass commits 1…K cells, no two inputs share a slot, the window starts at the last committed cell,
    /// and a query-only stand-in sits only at a cell with no token.
    func testLosslessWithoutModel() {
        for side in 1...9 {
            let n = side * side, layout = SequenceLayout(conditionTokens: 3, height: side, width: side)
            for k in Set([1, 2, side, n]).sorted() where k <= n {
                for (lag, rows) in [(1, side), (max(1, side / 3), side), (1, 0), (side, 1)] {
                    for acceptAll in [true, false] {
                        var s = ZipARLosslessSchedule(layout: layout, verifyWindow: k, draftLag: lag, draftRows: rows)
                        let passes = drive(&s, height: side, width: side, conditionTokens: 3, freeDrafts: true) { _ in acceptAll }
                        let name = "\(side)×\(side) K=\(k) lag=\(lag) rows=\(rows) accept=\(acceptAll)"
                        XCTAssertEqual(passes.count, acceptAll ? 1 + (n - 1 + k - 1) / k : n, name)
                        for (p, pass) in passes.enumerated().dropFirst() {
                            let committed = acceptAll ? min(n, 1 + (p - 1) * k) : p  // cells committed before pass p
                            XCTAssertEqual(Set(pass.inputs.map(\.position)).count, pass.inputs.count, name)
                            XCTAssertEqual(pass.inputs[0].position, 3 + committed - 1, name)
                            XCTAssertEqual(pass.predictions.filter { if case .commit = $0.kind { true } else { false } }.count,
                                           min(k, n - committed), name)
                            XCTAssertTrue(pass.inputs.allSatisfy { $0.writesCache || $0.position >= 3 + committed }, name)
                        }
                    }
                }
            }
        }
    }
}
