import Foundation

/// An nn.Linear with an optional bias: y = x · Wᵀ + b over the rows of x.
public struct Linear: Sendable {
    public let weight: WeightMatrix
    public let bias: [Float]?

    public init(weight: WeightMatrix, bias: [Float]?) {
        precondition(bias == nil || bias!.count == weight.rows, "bias width must match the output rows")
        self.weight = weight
        self.bias = bias
    }

    /// Output width.
    public var outputs: Int { weight.rows }
    /// Input width.
    public var inputs: Int { weight.cols }

    /// y[m, outputs] = x[m, inputs] · Wᵀ + b.
    func apply(_ x: UnsafePointer<Float>, m: Int, to y: UnsafeMutablePointer<Float>) {
        guard m > 0 else { return }
        weight.apply(x, m: m, to: y)
        guard let bias else { return }
        bias.withUnsafeBufferPointer { b in
            for r in 0..<m { addBias(y + r * outputs, b.baseAddress!, outputs) }
        }
    }
}

/// y[i] += b[i] over `n` values.
@inline(__always)
func addBias(_ y: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] += b[i] }
}

/// x[i] = gelu(x[i]) = x·Φ(x) with the exact erf form (PyTorch's default GELU), over `count` values.
@inline(__always)
public func geluInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count {
        let v = x[i]
        x[i] = v * 0.5 * (1 + erff(v * Float(0.5).squareRoot()))
    }
}
