import Foundation

/// How a token is drawn from logits, in LlamaGen's order: logits / temperature → top-k → top-p → softmax →
/// multinomial. Temperature 0 means greedy (argmax).
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

/// Draws tokens from logits with preallocated work space (no allocation per token after the first).
public struct Sampler {
    public let options: SamplingOptions
    private var work: [Float] = []
    private var order: [Int32] = []

    public init(_ options: SamplingOptions) { self.options = options }

    /// Samples one token; `logits` is overwritten with the filtered, normalised probabilities.
    public mutating func sample(_ logits: UnsafeMutableBufferPointer<Float>, rng: inout RandomSource) -> Int {
        if options.isGreedy { return argmax(UnsafeBufferPointer(logits)) }
        probabilities(logits)
        return draw(UnsafeBufferPointer(logits), rng: &rng)
    }

    /// Turns logits into the sampling distribution in place: temperature, top-k, top-p, softmax.
    public mutating func probabilities(_ logits: UnsafeMutableBufferPointer<Float>) {
        let v = logits.count
        let t = max(options.temperature, 1e-5)
        for i in 0..<v { logits[i] /= t }
        if options.topK > 0 && options.topK < v {
            let threshold = kthLargest(UnsafeBufferPointer(logits), options.topK)
            for i in 0..<v where logits[i] < threshold { logits[i] = -.infinity }
        }
        if options.topP < 1 { nucleus(logits, options.topP) }
        softmax(logits)
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

/// Draws an index from a distribution `p` (non-negative, summing to 1) with one uniform number.
public func draw(_ p: UnsafeBufferPointer<Float>, rng: inout RandomSource) -> Int {
    var u = Float(rng.nextUniform())
    var last = 0
    for i in 0..<p.count where p[i] > 0 {
        u -= p[i]
        last = i
        if u < 0 { return i }
    }
    return last  // rounding left a sliver of mass: the last index with probability > 0
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
