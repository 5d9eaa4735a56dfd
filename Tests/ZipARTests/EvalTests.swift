import XCTest
@testable import ZipAR

/// The quality measure: the glyph classifier against PyTorch on real glyphs, the Fréchet distance against
/// numpy and closed forms, and strict loading. Fixture: tools/demo/make_classifier_fixture.py (the shipped
/// classifier, one held-out glyph per class, PyTorch's outputs and numpy's distances).
final class EvalTests: XCTestCase {
    var folder: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("classifier") }

    /// The 36 glyphs of glyphs.png (6×6 tiles of 48×48; tile k draws class k).
    func glyphs() throws -> [RGBImage] {
        let grid = try readPNG(folder.appendingPathComponent("glyphs.png").path)
        return (0..<36).map { k in
            let (x0, y0) = (k % 6 * 48, k / 6 * 48)
            var pixels: [UInt8] = []
            for y in y0..<(y0 + 48) { pixels += grid.pixels[(y * grid.width + x0) * 3..<(y * grid.width + x0 + 48) * 3] }
            return RGBImage(width: 48, height: 48, pixels: pixels)
        }
    }

    func cases() throws -> Checkpoint { try Checkpoint.open(folder.appendingPathComponent("cases.safetensors").path) }

    /// numpy's Fréchet distances (frechet_cases.json).
    struct FrechetCases: Decodable {
        struct Random: Decodable { var a_mu: [Double], a_sigma: [[Double]], b_mu: [Double], b_sigma: [[Double]], value: Double }
        struct LowRank: Decodable { var value: Double, exact: Double }
        var random: Random, glyphs: LowRank
    }

    func frechetCases() throws -> FrechetCases {
        try JSONDecoder().decode(FrechetCases.self, from: Data(contentsOf: folder.appendingPathComponent("frechet_cases.json")))
    }

    /// Logits and features of 36 real glyphs equal PyTorch's within 1e-5 of each vector's largest magnitude
    /// (float32 sums in another order; 5e-7 seen with OpenBLAS), and every glyph is recognised as its
    /// class, as in PyTorch.
    func testClassifierMatchesPyTorch() throws {
        let classifier = try GlyphClassifier(directory: folder.path)
        let c = try cases()
        let logits = try c.floats("logits", shape: [36, 36]), features = try c.floats("features", shape: [36, 128])
        for (k, image) in try glyphs().enumerated() {
            let out = classifier.classify(image)
            for (got, want) in [(out.logits, logits[k * 36..<(k + 1) * 36]), (out.features, features[k * 128..<(k + 1) * 128])] {
                let scale = want.map(abs).max()!
                for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: 1e-5 * scale, "glyph \(k)") }
            }
            XCTAssertEqual(out.logits.indices.max { out.logits[$0] < out.logits[$1] }, k)
        }
    }

    /// A random case with full covariances: numpy's value (evaluate.frechet, float64) within 1e-9 relative.
    func testFrechetDistanceMatchesNumpy() throws {
        let r = try frechetCases().random
        let got = frechetDistance(FeatureStatistics(mean: r.a_mu, covariance: r.a_sigma.flatMap { $0 }),
                                  FeatureStatistics(mean: r.b_mu, covariance: r.b_sigma.flatMap { $0 }))
        XCTAssertEqual(got, r.value, accuracy: 1e-9 * r.value)
    }

    /// The real case: statistics of PyTorch's features of the 36 glyphs (a 128×128 covariance of rank 35)
    /// against the classifier's fd_reference. Within 1e-6 relative of numpy's value and of the exact one
    /// (square root on the rank-35 subspace): the 93 round-off eigenvalues (~1e-12) that both clip at 0 or
    /// keep move the sum of square roots by ~1e-4, and numpy's own value is 3.5e-7 relative from the exact.
    func testFrechetDistanceOnGlyphFeatures() throws {
        let features = try cases().floats("features", shape: [36, 128])
        let stats = FeatureStatistics(features: (0..<36).map { Array(features[$0 * 128..<($0 + 1) * 128]) })
        let reference = try FeatureStatistics(file: folder.appendingPathComponent("fd_reference.safetensors").path)
        let want = try frechetCases().glyphs, got = frechetDistance(stats, reference)
        XCTAssertEqual(got, want.value, accuracy: 1e-6 * want.value)
        XCTAssertEqual(got, want.exact, accuracy: 1e-6 * want.exact)
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

    /// A missing, misshapen or unexpected weight is an error naming the file and the key; so is a config
    /// whose widths do not match the weights.
    func testStrictLoading() throws {
        let config = try ModelFiles.config(ClassifierConfig.self, in: folder.path)
        let original = try Checkpoint.open(folder.appendingPathComponent("model.safetensors").path)
        let tensors = original.names.map { (name: $0, shape: original.tensors[$0]!.shape, data: original.tensors[$0]!.floats()) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("eval-tests-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        func expectError(_ edited: [(name: String, shape: [Int], data: [Float])], config: ClassifierConfig = config,
                         naming key: String, line: UInt = #line) throws {
            try SafetensorsWriter.write(edited, to: path)
            XCTAssertThrowsError(try GlyphClassifier(config: config, checkpoint: try Checkpoint.open(path)), line: line) {
                XCTAssertTrue("\($0)".contains(key) && "\($0)".contains(path), "\($0)", line: line)
            }
        }
        try expectError(tensors.filter { $0.name != "conv2.bias" }, naming: "'conv2.bias'")
        try expectError(tensors.map { $0.name == "fc2.bias" ? ($0.name, [35], Array($0.data.dropLast())) : $0 }, naming: "'fc2.bias'")
        try expectError(tensors + [("conv5.weight", [1], [0])], naming: "'conv5.weight'")
        var wide = config
        wide.fc_hidden = 17
        try expectError(tensors, config: wide, naming: "'fc1.weight'")
        var deep = config
        deep.channels.append(16)
        try expectError(tensors, config: deep, naming: "'conv5.weight'")
    }

    /// The reference statistics hold exactly mu [F] and sigma [F, F].
    func testStrictReferenceStatistics() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("eval-tests-ref-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (tensors, key) in [([("mu", [2], [0, 1]), ("sigma", [2, 3], [Float](repeating: 0, count: 6))], "'sigma'"),
                               ([("mu", [2], [0, 1]), ("sigma", [2, 2], [1, 0, 0, 1]), ("count", [1], [9])], "'count'")] {
            try SafetensorsWriter.write(tensors.map { (name: $0.0, shape: $0.1, data: $0.2) }, to: path)
            XCTAssertThrowsError(try FeatureStatistics(file: path)) { XCTAssertTrue("\($0)".contains(key), "\($0)") }
        }
    }
}
