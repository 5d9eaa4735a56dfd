import XCTest
@testable import ZipAR

/// A query-only input (`writesCache: false`) sees what a normal input at its slot sees, itself included,
/// and nothing else ever sees it.
final class QueryOnlyInputTests: XCTestCase {
    func testQueryOnlyInputIsInvisible() throws {
        let model = try ConformanceCase("c2i-tiny-8x8").gpt()
        let conditions = [[3], [10]]
        func run(_ passes: [[ModelInput]]) -> [[Float]] {
            let cache = model.makeCache(batch: 2)
            let prefix = [ModelInput(.condition(0), position: 0)] + (1...5).map { ModelInput(.token($0 * 11), position: $0) }
            _ = model.forward(prefix, conditions: conditions, cache: cache, visibility: .writtenCausal, logitsFor: [])
            return passes.map {
                Array(model.forward($0, conditions: conditions, cache: cache, visibility: .writtenCausal, logitsFor: Array($0.indices)))
            }
        }
        let queryOnly = ModelInput(.token(7), position: 6, writesCache: false)
        let later = ModelInput(.token(9), position: 7)
        // its own logits are those of the same token written at its slot
        XCTAssertEqual(run([[queryOnly]])[0], run([[ModelInput(.token(7), position: 6)]])[0])
        // a later query, in the same pass or after it, does not see it (logits [batch][input][vocab])
        let without = run([[later]])[0]
        let v = model.config.vocab_size
        let together = run([[queryOnly, later]])[0]
        let laterAlongside = Array(together[v..<2 * v]) + Array(together[3 * v..<4 * v])
        let worst = zip(laterAlongside, without).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(worst, 1e-4 * without.map(abs).max()!, "two rows in one matrix product: rounding only")
        XCTAssertEqual(run([[queryOnly], [later]])[1], without)
    }
}
