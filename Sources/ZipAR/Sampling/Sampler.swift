import Foundation

/// How a token is drawn from logits, in LlamaGen's order: logits / temperature → top-k → top-p → a draw
/// from the softmax (by the Gumbel-max trick, `Sampler`). Temperature 0 means greedy (argmax).
public struct SamplingOptions: Equatable, Sendable {
    public var temperature: Float = 1
    /// Keep only the k largest logits (ties with the k-th kept); 0 keeps all.
    public var topK: Int = 0
    /// Keep the smallest prefix of the sorted distribution whose mass reaches top-p (the first token always); 1 keeps all.
    public var topP: Float = 1

    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    /// Greedy decoding (temperature 0).
    public var isGreedy: Bool { temperature == 0 }
}

/// Picks tokens from logits by the Gumbel-max trick: the token is argmax over ids of the warped logits
/// (temperature, top-k, top-p, as LlamaGen orders them) plus Gumbel noise fixed by (seed, image position,
/// id). That is an exact draw from softmax(warped logits), and a deterministic function of the logits and
/// the noise: the same position picks the same token from the same logits in every schedule, which is what
/// lets a lossless schedule reproduce raster decoding seed for seed. Temperature 0 is the argmax (greedy).
/// Work space is preallocated (no allocation per token after the first).
public struct Sampler {
    public let options: SamplingOptions
    private var work: [Float] = []
    private var order: [Int32] = []

    public init(_ options: SamplingOptions) { self.options = options }

    /// The token of image position `position`; `logits` is overwritten with the warped logits (−inf where
    /// top-k or top-p removed an id). Ties go to the lowest id.
    public mutating func pick(_ logits: UnsafeMutableBufferPointer<Float>, noise: GumbelNoise, position: Int) -> Int {
        if options.isGreedy { return argmax(UnsafeBufferPointer(logits)) }
        warp(logits)
        var best = 0, bestScore = -Double.infinity
        for i in 0..<logits.count where logits[i] > -.infinity {
            let score = Double(logits[i]) + noise.value(position: position, id: i)
            if score > bestScore { best = i; bestScore = score }
        }
        return best
    }

    /// The top two noised scores of `pick` (the winner's and the runner-up's), for reporting how close a
    /// decision was; `logits` is overwritten as `pick` does. Greedy: the top two logits.
    public mutating func topTwoScores(_ logits: UnsafeMutableBufferPointer<Float>, noise: GumbelNoise, position: Int) -> (Double, Double) {
        if !options.isGreedy { warp(logits) }
        var first = -Double.infinity, second = -Double.infinity
        for i in 0..<logits.count where logits[i] > -.infinity {
            let score = Double(logits[i]) + (options.isGreedy ? 0 : noise.value(position: position, id: i))
            if score > first { second = first; first = score } else if score > second { second = score }
        }
        return (first, second)
    }

    /// Warps logits in place as LlamaGen does before its softmax: divide by the temperature, then top-k,
    /// then top-p (removed ids become −inf).
    public mutating func warp(_ logits: UnsafeMutableBufferPointer<Float>) {
        let v = logits.count
        let t = max(options.temperature, 1e-5)
        for i in 0..<v { logits[i] /= t }
        if options.topK > 0 && options.topK < v {
            let threshold = kthLargest(UnsafeBufferPointer(logits), options.topK)
            for i in 0..<v where logits[i] < threshold { logits[i] = -.infinity }
        }
        if options.topP < 1 { nucleus(logits, options.topP) }
    }

    /// The k-th largest value (quickselect on a copy).
    private mutating func kthLargest(_ x: UnsafeBufferPointer<Float>, _ k: Int) -> Float {
        work.removeAll(keepingCapacity: true)
        work.append(contentsOf: x)
        return work.withUnsafeMutableBufferPointer { w in
            var lo = 0, hi = w.count - 1
            let target = k - 1  // index in descending order
            while lo < hi {
                let pivot = w[(lo + hi) / 2]
                var i = lo, j = hi
                while i <= j {
                    while w[i] > pivot { i += 1 }
                    while w[j] < pivot { j -= 1 }
                    if i <= j { w.swapAt(i, j); i += 1; j -= 1 }
                }
                if target <= j { hi = j } else if target >= i { lo = i } else { break }
            }
            return w[target]
        }
    }

    /// Removes the tail whose cumulative probability (sorted descending) exceeds p, keeping the first token
    /// past the threshold, as HF's top_k_top_p_filtering does.
    private mutating func nucleus(_ logits: UnsafeMutableBufferPointer<Float>, _ p: Float) {
        order.removeAll(keepingCapacity: true)
        for i in 0..<logits.count where logits[i] > -.infinity { order.append(Int32(i)) }
        order.sort { logits[Int($0)] > logits[Int($1)] || (logits[Int($0)] == logits[Int($1)] && $0 < $1) }
        guard let first = order.first else { return }
        let maxLogit = logits[Int(first)]
        var total: Float = 0
        for i in order { total += expf(logits[Int(i)] - maxLogit) }
        var cumulative: Float = 0
        var removing = false
        for i in order {
            if removing { logits[Int(i)] = -.infinity; continue }
            cumulative += expf(logits[Int(i)] - maxLogit) / total
            if cumulative > p { removing = true }  // this token stays (the shift right by one)
        }
    }
}

/// Index of the largest value (the first on ties).
public func argmax(_ x: UnsafeBufferPointer<Float>) -> Int {
    var best = 0
    var bestValue = -Float.infinity
    for i in 0..<x.count where x[i] > bestValue { best = i; bestValue = x[i] }
    return best
}

/// In-place softmax (−inf entries become 0).
public func softmax(_ x: UnsafeMutableBufferPointer<Float>) {
    var m = -Float.infinity
    for v in x { m = max(m, v) }
    var sum: Float = 0
    for i in 0..<x.count { let e = expf(x[i] - m); x[i] = e; sum += e }
    let inv = 1 / sum
    for i in 0..<x.count { x[i] *= inv }
}
