import XCTest
@testable import ZipAR

final class BenchmarkTests: XCTestCase {
    /// The smoke plan runs end to end: positive timings and rates, passes as the schedule formulas say.
    func testSmokeReportIsSane() throws {
        var plan = BenchmarkPlan.smoke
        plan.warmup = 0
        plan.repeats = 1
        let report = try Benchmark.run(plan)
        let (h, w) = (report.model.gridHeight, report.model.gridWidth)
        XCTAssertEqual(report.schedules.map(\.name), ["raster", "zipar-reference:8", "zipar-reference:4"])
        XCTAssertEqual(report.schedules.map(\.passes), [h * w, 2 * w + (h - 2) * 8, 2 * w + (h - 2) * 4])
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

    /// Schedule names parse, and a bad one is an error that names it.
    func testScheduleNames() throws {
        XCTAssertEqual(try BenchmarkSchedule.parseList("raster,zipar-reference:8", width: 16), [.raster, .ziparReference(window: 8)])
        XCTAssertThrowsError(try BenchmarkSchedule.parse("zipar", width: 16)) { XCTAssertTrue("\($0)".contains("'zipar'")) }
        XCTAssertThrowsError(try BenchmarkSchedule.parse("zipar-reference:16", width: 16)) { XCTAssertTrue("\($0)".contains("2…15")) }
    }
}
