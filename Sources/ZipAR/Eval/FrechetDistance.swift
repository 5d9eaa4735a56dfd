import Foundation

/// Mean and covariance (sample covariance, ddof 1) of feature vectors, in Double.
public struct FeatureStatistics: Sendable {
    public let mean: [Double]
    /// Row-major [dimension × dimension].
    public let covariance: [Double]
    public var dimension: Int { mean.count }

    public init(mean: [Double], covariance: [Double]) {
        precondition(covariance.count == mean.count * mean.count, "covariance must be dimension²")
        self.mean = mean
        self.covariance = covariance
    }

    /// The statistics of `features` (each of the same length; at least two).
    public init(features: [[Float]]) {
        precondition(features.count >= 2, "a covariance needs at least two samples")
        let d = features[0].count, n = Double(features.count)
        var mean = [Double](repeating: 0, count: d)
        for f in features { for i in 0..<d { mean[i] += Double(f[i]) } }
        for i in 0..<d { mean[i] /= n }
        var cov = [Double](repeating: 0, count: d * d)
        var centred = [Double](repeating: 0, count: d)
        for f in features {
            for i in 0..<d { centred[i] = Double(f[i]) - mean[i] }
            for i in 0..<d where centred[i] != 0 {
                let ci = centred[i]
                for j in i..<d { cov[i * d + j] += ci * centred[j] }
            }
        }
        for i in 0..<d {
            for j in i..<d {
                cov[i * d + j] /= n - 1
                cov[j * d + i] = cov[i * d + j]
            }
        }
        self.init(mean: mean, covariance: cov)
    }

    /// The `mu` [F] and `sigma` [F, F] tensors of a safetensors file (the classifier's fd_reference); any
    /// other tensor, or a missing or misshapen one, is an error naming the file and the key.
    public init(file path: String) throws {
        let checkpoint = try Checkpoint.open(path)
        if let extra = checkpoint.names.first(where: { $0 != "mu" && $0 != "sigma" }) {
            throw CheckpointError(path, "unexpected tensor \(quoted(extra)) in Fréchet reference statistics (only mu and sigma)")
        }
        let shape = try checkpoint.entry("mu").shape
        guard shape.count == 1 else { throw CheckpointError(path, "'mu' has shape \(shape); a vector was expected") }
        let mu = try checkpoint.floats("mu", shape: shape)
        let sigma = try checkpoint.floats("sigma", shape: [mu.count, mu.count])
        self.init(mean: mu.map(Double.init), covariance: sigma.map(Double.init))
    }
}

/// Fréchet distance between two Gaussians: |μ₁ − μ₂|² + tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½), with tr((Σ₁Σ₂)^½)
/// taken as the sum of the square roots of the eigenvalues of Σ₁^½ Σ₂ Σ₁^½ (symmetric, so its
/// eigen-decomposition is stable; negative round-off eigenvalues count as 0), as tools/demo/evaluate.py does.
public func frechetDistance(_ a: FeatureStatistics, _ b: FeatureStatistics) -> Double {
    precondition(a.dimension == b.dimension, "statistics of different dimensions")
    let d = a.dimension
    var meanTerm = 0.0, traces = 0.0
    for i in 0..<d {
        meanTerm += (a.mean[i] - b.mean[i]) * (a.mean[i] - b.mean[i])
        traces += a.covariance[i * d + i] + b.covariance[i * d + i]
    }
    let root = psdSquareRoot(a.covariance, dimension: d)
    let product = multiply(multiply(root, b.covariance, d), root, d)
    let crossTrace = symmetricEigenvalues(product, dimension: d).reduce(0) { $0 + max($1, 0).squareRoot() }
    return meanTerm + traces - 2 * crossTrace
}

/// The symmetric positive semi-definite square root V·diag(√max(λ, 0))·Vᵀ of a symmetric matrix.
func psdSquareRoot(_ m: [Double], dimension d: Int) -> [Double] {
    let (values, vectors) = symmetricEigen(m, dimension: d)
    var out = [Double](repeating: 0, count: d * d)
    for k in 0..<d {
        let s = max(values[k], 0).squareRoot()
        guard s > 0 else { continue }
        for i in 0..<d {
            let vik = vectors[i * d + k] * s
            for j in 0..<d { out[i * d + j] += vik * vectors[j * d + k] }
        }
    }
    return out
}

/// Eigenvalues of a symmetric matrix.
func symmetricEigenvalues(_ m: [Double], dimension d: Int) -> [Double] { symmetricEigen(m, dimension: d).values }

/// Eigen-decomposition of a symmetric matrix (row-major d×d; symmetrised first) by cyclic Jacobi
/// rotations: values[k] and column k of `vectors` (row-major) are an eigenpair. Sweeps until the
/// off-diagonal mass is below 1e-22 of the total (at most 100 sweeps).
func symmetricEigen(_ m: [Double], dimension d: Int) -> (values: [Double], vectors: [Double]) {
    var a = [Double](repeating: 0, count: d * d)
    for i in 0..<d { for j in 0..<d { a[i * d + j] = (m[i * d + j] + m[j * d + i]) / 2 } }
    var v = [Double](repeating: 0, count: d * d)
    for i in 0..<d { v[i * d + i] = 1 }
    let total = a.reduce(0) { $0 + $1 * $1 }
    for _ in 0..<100 {
        var off = 0.0
        for i in 0..<d { for j in 0..<d where i != j { off += a[i * d + j] * a[i * d + j] } }
        if off <= 1e-22 * total || off == 0 { break }
        for p in 0..<d {
            for q in (p + 1)..<d {
                let apq = a[p * d + q]
                guard apq != 0 else { continue }
                let theta = (a[q * d + q] - a[p * d + p]) / (2 * apq)
                let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<d {  // rotate columns p and q
                    let akp = a[k * d + p], akq = a[k * d + q]
                    a[k * d + p] = c * akp - s * akq
                    a[k * d + q] = s * akp + c * akq
                }
                for k in 0..<d {  // rotate rows p and q
                    let apk = a[p * d + k], aqk = a[q * d + k]
                    a[p * d + k] = c * apk - s * aqk
                    a[q * d + k] = s * apk + c * aqk
                }
                for k in 0..<d {
                    let vkp = v[k * d + p], vkq = v[k * d + q]
                    v[k * d + p] = c * vkp - s * vkq
                    v[k * d + q] = s * vkp + c * vkq
                }
            }
        }
    }
    return ((0..<d).map { a[$0 * d + $0] }, v)
}

/// Row-major product of two d×d matrices.
private func multiply(_ x: [Double], _ y: [Double], _ d: Int) -> [Double] {
    var out = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
        for k in 0..<d {
            let xik = x[i * d + k]
            guard xik != 0 else { continue }
            for j in 0..<d { out[i * d + j] += xik * y[k * d + j] }
        }
    }
    return out
}
