import Foundation

/// Memory read bandwidth: sums a buffer much larger than the caches with SIMD adds, split over threads.
public enum BandwidthProbe {
    /// One measurement: the best and median of the timed reads, in GB/s (10⁹ bytes per second).
    public struct Result: Codable, Sendable {
        public var threads: Int
        public var bufferBytes: Int
        public var repeats: Int
        public var bestGigabytesPerSecond: Double
        public var medianGigabytesPerSecond: Double
    }

    /// Reads `bytes` (rounded down to whole 128-byte blocks) `repeats` times with `threads` threads
    /// (DispatchQueue.concurrentPerform, one contiguous slice each), after one untimed read that faults
    /// the pages in.
    public static func measure(bytes: Int, threads: Int, repeats: Int) -> Result {
        let blocks = bytes / MemoryLayout<Block>.stride
        let buffer = UnsafeMutablePointer<Block>.allocate(capacity: blocks)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: Block(repeating: 1), count: blocks)
        let readBytes = blocks * MemoryLayout<Block>.stride
        var rates: [Double] = []
        for i in 0...repeats {
            var sums = [Double](repeating: 0, count: threads)
            let seconds = Stopwatch.time {
                sums.withUnsafeMutableBufferPointer { out in
                    DispatchQueue.concurrentPerform(iterations: threads) { t in
                        out[t] = sum(buffer + blocks * t / threads, count: blocks * (t + 1) / threads - blocks * t / threads)
                    }
                }
            }
            // Every float is 1: the sum proves every byte was read (and keeps the reads alive).
            precondition(sums.reduce(0, +) == Double(blocks * Block.scalarCount), "bandwidth probe misread its buffer")
            if i > 0 { rates.append(Double(readBytes) / seconds / 1e9) }
        }
        return Result(threads: threads, bufferBytes: readBytes, repeats: repeats,
                      bestGigabytesPerSecond: rates.max() ?? 0, medianGigabytesPerSecond: median(rates))
    }

    /// 128 bytes: two cache lines, summed as four independent 8-wide vectors.
    typealias Block = SIMD32<Float>

    /// The sum of every float in `count` blocks, accumulated in float per 2¹⁶ blocks (exact for ones)
    /// and in double across them.
    private static func sum(_ p: UnsafePointer<Block>, count: Int) -> Double {
        var total: Double = 0
        var start = 0
        while start < count {
            let end = min(count, start + 1 << 16)
            var a = SIMD8<Float>(), b = SIMD8<Float>(), c = SIMD8<Float>(), d = SIMD8<Float>()
            for i in start..<end {
                let v = p[i]
                a += v.lowHalf.lowHalf
                b += v.lowHalf.highHalf
                c += v.highHalf.lowHalf
                d += v.highHalf.highHalf
            }
            total += Double((a + b + c + d).sum())
            start = end
        }
        return total
    }
}
