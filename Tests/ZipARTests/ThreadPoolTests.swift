import XCTest
@testable import ZipAR

/// The kernels' thread pool: every index of every parallel loop runs exactly once, and a loop returns only
/// after all of its indices have run. Many short loops of different sizes back to back are what exposed
/// the pool's race of 2026-11-29 (a late worker claimed an index of the previous loop against the next
/// loop's count); it was rare, so this test can catch a regression of that kind only sometimes, but it
/// fails every time for a pool that skips, repeats or outlives indices in ordinary runs.
final class ThreadPoolTests: XCTestCase {
    func testEveryIndexRunsOnceBeforeTheLoopReturns() {
        let capacity = 64
        let marks = UnsafeMutablePointer<Int>.allocate(capacity: capacity)
        defer { marks.deallocate() }
        marks.initialize(repeating: 0, count: capacity)
        let sizes = [2, 3, 64, 5, 17, 2, 33]
        var failures = 0
        for loop in 1...300_000 {
            let count = sizes[loop % sizes.count]
            parallelFor(count) { i in marks[i] += loop }  // distinct slots: no two indices share one
            failures += (0..<count).filter { marks[$0] != loop }.count
            for i in 0..<count { marks[i] = 0 }
        }
        XCTAssertEqual(failures, 0, "indices skipped, repeated or still running after parallelFor returned")
    }
}
