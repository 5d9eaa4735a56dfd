import XCTest
@testable import ZipAR

final class BenchmarkTests: XCTestCase {
    /// The smoke plan runs end to end: positive timings and rates, passes as the schedule formulas say,
    /// zipar-adaptive's drafts in the table.
    func testSmokeReportIsSane() throws {
        var plan = BenchmarkPlan.smoke
        plan.schedules += [.zipar(window: 4, rowStart: .neighbour), .ziparAdaptive(minWindow: 4, rowStart: .neighbour)]
        plan.warmup = 0
        plan.repeats = 1
        let report = try Benchmark.run(plan)
        let (h, w) = (report.model.gridHeight, report.model.gridWidth)
        XCTAssertEqual(report.schedules.map(\.name), ["raster", "zipar-reference:8", "zipar-reference:4", "zipar:4", "zipar-adaptive:4"])
        XCTAssertEqual(report.schedules.prefix(4).map(\.passes), [h * w, 2 * w + (h - 2) * 8, 2 * w + (h - 2) * 4, w + (h - 1) * 4])
        let adaptive = report.schedules[4]
        XCTAssertTrue((w + (h - 1) * 4...h * w).contains(adaptive.passes), "\(adaptive.passes)")
        XCTAssertGreaterThan(adaptive.drafts, 0)
        XCTAssertEqual(adaptive.accepted + adaptive.rejected, adaptive.drafts)
        XCTAssertTrue(report.table().contains("drafts (accepted/rejected)"))
        XCTAssertTrue(report.table().contains("\(adaptive.drafts) (\(adaptive.accepted)/\(adaptive.rejected))"))
        for s in report.schedules {
            XCTAssertGreaterThan(s.secondsMedian, 0, s.name)
            XCTAssertGreaterThan(s.achievedGigabytesPerSecond, 0, s.name)
            XCTAssertEqual(s.tokensPerPass * Double(s.passes), Double(h * w), accuracy: 1e-9, s.name)
        }
        XCTAssertEqual(report.schedules[0].ratioToRaster, 1)
        XCTAssertGreaterThan(report.bandwidth.bestGigabytesPerSecond, 0)
        XCTAssertGreaterThan(report.matmul.bestGflops, 0)
        XCTAssertGreaterThan(report.floorMsPerPass, 0)
        XCTAssertGreaterThan(report.peakResidentMebibytes, 0)
        let vq = try XCTUnwrap(report.vqDecode)
        XCTAssertGreaterThan(vq.secondsMedian, 0)
        XCTAssertGreaterThan(vq.flops.total, 0)
        XCTAssertNoThrow(try report.json())
    }
}
