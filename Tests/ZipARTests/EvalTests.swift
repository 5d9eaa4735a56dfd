import XCTest
@testable import ZipAR

/// The quality measure: the glyph classifier against PyTorch, the Fréchet distance against numpy and
/// closed forms, and strict loading. Fixture: tools/demo/make_classifier_fixture.py.
final class EvalTests: XCTestCase {
    var folder: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("classifier") }

    func cases() throws -> Checkpoint { try Checkpoint.open(folder.appendingPathComponent("cases.safetensors").path) }

    /// Logits and features equal PyTorch's within 1e-4 of the largest magnitude (float32 sums in another order).
    func testClassifierMatchesPyTorch() throws {
        let classifier = try GlyphClassifier(directory: folder.path)
        let c = try cases()
        let pixels = try c.floats("images", shape: [12, 48, 48, 3])
        let logits = try c.floats("logits", shape: [12, 36]), features = try c.floats("features", shape: [12, 16])
        for n in 0..<12 {
            let image = RGBImage(width: 48, height: 48, pixels: pixels[n * 6912..<(n + 1) * 6912].map { UInt8($0) })
            let out = classifier.classify(image)
            for (got, want) in [(out.logits, Array(logits[n * 36..<(n + 1) * 36])), (out.features, Array(features[n * 16..<(n + 1) * 16]))] {
                let scale = max(want.map(abs).max() ?? 0, 1e-3)
                for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: 1e-4 * scale, "image \(n)") }
            }
        }
    }

    /// A random non-diagonal case against numpy's value (evaluate.frechet in float64), within 1e-9 relative.
    func testFrechetDistanceMatchesNumpy() throws {
        let c = try cases()
        func stats(_ p: String) throws -> FeatureStatistics {
            FeatureStatistics(mean: try c.floats("\(p)_mu", shape: [6]).map(Double.init),
                              covariance: try c.floats("\(p)_sigma", shape: [6, 6]).map(Double.init))
        }
        let want = Double(try c.floats("fd_value", shape: [1])[0])
        XCTAssertEqual(frechetDistance(try stats("fd_a"), try stats("fd_b")), want, accuracy: 1e-6 * want)
    }

    /// Identical statistics are at distance 0; diagonal covariances give Σ(√a − √b)² + |Δμ|² (1e-9 relative).
    func testFrechetDistanceClosedForms() {
        var rng = RandomSource(seed: 5)
        let d = 12
        let x = (0..<40).map { _ in (0..<d).map { _ in rng.nextGaussian() } }
        let s = FeatureStatistics(features: x)
        XCTAssertEqual(frechetDistance(s, s), 0, accuracy: 1e-9 * s.covariance.reduce(0) { $0 + abs($1) })
        let a = (0..<d).map { Double($0) + 0.5 }, b = (0..<d).map { Double(d - $0) * 0.3 }
        let ma = (0..<d).map { _ in Double(rng.nextGaussian()) }, mb = (0..<d).map { _ in Double(rng.nextGaussian()) }
        func diagonal(_ v: [Double]) -> [Double] { (0..<d * d).map { $0 % (d + 1) == 0 ? v[$0 / (d + 1)] : 0 } }
        var want = 0.0
        for i in 0..<d { want += pow(a[i].squareRoot() - b[i].squareRoot(), 2) + pow(ma[i] - mb[i], 2) }
        let got = frechetDistance(FeatureStatistics(mean: ma, covariance: diagonal(a)), FeatureStatistics(mean: mb, covariance: diagonal(b)))
        XCTAssertEqual(got, want, accuracy: 1e-9 * want)
    }

    /// The Jacobi eigen-decomposition reconstructs its matrix: V·diag(λ)·Vᵀ = M within 1e-10 of |M|.
    func testSymmetricEigenReconstructs() {
        var rng = RandomSource(seed: 9)
        let d = 9
        let m0 = (0..<d * d).map { _ in Double(rng.nextGaussian()) }
        let m = (0..<d * d).map { (m0[$0] + m0[($0 % d) * d + $0 / d]) / 2 }
        let (values, v) = symmetricEigen(m, dimension: d)
        for i in 0..<d {
            for j in 0..<d {
                let r = (0..<d).reduce(0.0) { $0 + v[i * d + $1] * values[$1] * v[j * d + $1] }
                XCTAssertEqual(r, m[i * d + j], accuracy: 1e-10 * 10)
            }
        }
    }

    /// A missing or misshapen weight names its key; so does an unexpected one.
    func testStrictLoading() throws {
        let config = try ModelFiles.config(ClassifierConfig.self, in: folder.path)
        let weights = folder.appendingPathComponent("model.safetensors").path
        var wide = config
        wide.fc_hidden = 17
        XCTAssertThrowsError(try GlyphClassifier(config: wide, checkpoint: try Checkpoint.open(weights))) {
            XCTAssertTrue("\($0)".contains("fc1.weight"), "\($0)")
        }
        var short = config
        short.channels = [8]
        XCTAssertThrowsError(try GlyphClassifier(config: short, checkpoint: try Checkpoint.open(weights))) {
            XCTAssertTrue("\($0)".contains("fc1.weight") || "\($0)".contains("conv2"), "\($0)")
        }
        var deep = config
        deep.channels = [8, 16, 16]
        XCTAssertThrowsError(try GlyphClassifier(config: deep, checkpoint: try Checkpoint.open(weights))) {
            XCTAssertTrue("\($0)".contains("conv3.weight"), "\($0)")
        }
    }
}
