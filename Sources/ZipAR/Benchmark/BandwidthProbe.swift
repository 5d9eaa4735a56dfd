import CKernels
import Foundation

/// Memory read bandwidth: sums a buffer much larger than the caches as the weight kernels read (256-bit
/// loads with a software prefetch: `zipar_read_sum`), one contiguous slice per thread of the kernels' pool.
public enum BandwidthProbe {
    /// One measurement: the best and median of the timed reads, in GB/s (10⁹ bytes per second).
    public struct Result: Codable, Sendable {
        public var threads: Int
        public var bufferBytes: Int
        public var repeats: Int
        public var bestGigabytesPerSecond: Double
        public var medianGigabytesPerSecond: Double
    }

    /// Reads `bytes` (rounded down to whole 128-byte blocks) `repeats` times with `threads` threads (at
    /// most the pool's; one contiguous slice each), after one untimed read that faults the pages in.
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
                    parallelFor(threads) { t in
                        let first = blocks * t / threads, count = blocks * (t + 1) / threads - first
                        out[t] = UnsafeRawPointer(buffer + first).withMemoryRebound(to: Float.self, capacity: count * Block.scalarCount) {
                            zipar_read_sum($0, Int64(count * Block.scalarCount))
                        }
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

    /// 128 bytes: two cache lines.
    typealias Block = SIMD32<Float>
}
