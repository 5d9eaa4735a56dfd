import XCTest
@testable import ZipAR

/// The Gumbel-max sampler: its noise is a pure function of (seed, position, id), independent across
/// positions and ids, and its picks are draws from the softmax of the warped logits.
final class SamplerTests: XCTestCase {
    func testNoiseIsAPureFunction() {
        let a = GumbelNoise(seed: 7), b = GumbelNoise(seed: 7), c = GumbelNoise(seed: 8)
        for position in [0, 1, 143, 100_000] {
            for id in [0, 1, 1023, 16383] {
                XCTAssertEqual(a.value(position: position, id: id), b.value(position: position, id: id))
                XCTAssertNotEqual(a.value(position: position, id: id), c.value(position: position, id: id))
            }
        }
        XCTAssertNotEqual(a.value(position: 0, id: 1), a.value(position: 1, id: 0))
        XCTAssertNotEqual(a.value(position: 1, id: 0), a.value(position: 0, id: 1 << 32))  // id bits do not spill into the position
    }

    /// Uniforms are uniform (mean 1/2, variance 1/12) and uncorrelated between neighbouring positions, ids
    /// and seeds (|r| < 0.01 over 200,000 pairs: 4.5 standard errors).
    func testNoiseIsUniformAndIndependent() {
        let noise = GumbelNoise(seed: 3), other = GumbelNoise(seed: 4)
        let n = 200_000
        var sum = 0.0, sumSq = 0.0
        var pairs: [(Double, Double, Double, Double)] = []
        for k in 0..<n {
            let position = k / 1000, id = k % 1000
            let u = noise.uniform(position: position, id: id)
            sum += u; sumSq += u * u
            pairs.append((u, noise.uniform(position: position + 1, id: id), noise.uniform(position: position, id: id + 1),
                          other.uniform(position: position, id: id)))
        }
        XCTAssertEqual(sum / Double(n), 0.5, accuracy: 0.003)
        XCTAssertEqual(sumSq / Double(n) - pow(sum / Double(n), 2), 1.0 / 12, accuracy: 0.002)
        func correlation(_ x: [Double], _ y: [Double]) -> Double {
            let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
            var sxy = 0.0, sxx = 0.0, syy = 0.0
            for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
            return sxy / (sxx * syy).squareRoot()
        }
        let u = pairs.map(\.0)
        XCTAssertLessThan(abs(correlation(u, pairs.map(\.1))), 0.01, "next position")
        XCTAssertLessThan(abs(correlation(u, pairs.map(\.2))), 0.01, "next id")
        XCTAssertLessThan(abs(correlation(u, pairs.map(\.3))), 0.01, "next seed")
    }

    /// Picks over 60,000 seeds follow softmax(warped logits): a χ² test at p = 0.001 for temperature 0.7
    /// with top-k 3 and for top-p 0.8; ids the filters remove are never picked; greedy is the argmax.
    func testPicksFollowTheWarpedDistribution() {
        let logits: [Float] = [1.0, 2.5, 0.3, 2.4, -1.0, 1.9]
        for options in [SamplingOptions(temperature: 0.7, topK: 3), SamplingOptions(temperature: 1, topP: 0.8)] {
            var sampler = Sampler(options)
            var want = logits
            want.withUnsafeMutableBufferPointer { sampler.warp($0); softmax($0) }
            var counts = [Int](repeating: 0, count: logits.count)
            let n = 60_000
            for seed in 0..<n {
                var l = logits
                counts[l.withUnsafeMutableBufferPointer { sampler.pick($0, noise: GumbelNoise(seed: UInt64(seed)), position: 5) }] += 1
            }
            var chi2 = 0.0, bins = 0
            for (c, p) in zip(counts, want) {
                if p == 0 { XCTAssertEqual(c, 0, "\(options): a removed id was picked"); continue }
                chi2 += pow(Double(c) - Double(n) * Double(p), 2) / (Double(n) * Double(p))
                bins += 1
            }
            XCTAssertEqual(bins, 3, "\(options) keeps three ids")
            XCTAssertLessThan(chi2, 13.82, "\(options): χ² \(chi2) on 2 degrees of freedom")  // χ²₀.₉₉₉(2)
        }
        var greedy = Sampler(SamplingOptions(temperature: 0))
        var l = logits
        XCTAssertEqual(l.withUnsafeMutableBufferPointer { greedy.pick($0, noise: GumbelNoise(seed: 1), position: 0) }, 1)
    }

    /// A position's pick depends on its own noise only: the same logits at two positions pick independently
    /// (both land on the same id as often as Σ p², not always).
    func testPositionsPickIndependently() {
        var sampler = Sampler(SamplingOptions(temperature: 1))
        let logits: [Float] = [0, 0, 0, 0]
        var same = 0
        let n = 20_000
        for seed in 0..<n {
            let noise = GumbelNoise(seed: UInt64(seed))
            var a = logits, b = logits
            let x = a.withUnsafeMutableBufferPointer { sampler.pick($0, noise: noise, position: 10) }
            let y = b.withUnsafeMutableBufferPointer { sampler.pick($0, noise: noise, position: 11) }
            if x == y { same += 1 }
        }
        XCTAssertEqual(Double(same) / Double(n), 0.25, accuracy: 0.015)
    }
}
