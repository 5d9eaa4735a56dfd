import CKernels
import Foundation

/// Storage precision of weight matrices (`--weights-dtype`).
public enum WeightPrecision: String, CaseIterable, Sendable {
    /// float32 (exact), bfloat16 (half the bytes), or int8 with one float32 scale per output row (a quarter).
    case float32, bfloat16, int8

    /// Bytes per weight (int8 matrices keep one float32 scale per row on top).
    public var size: Int {
        switch self {
        case .float32: return 4
        case .bfloat16: return 2
        case .int8: return 1
        }
    }

    /// Precision of tables read a few rows at a time (embeddings) when the matrices are in this one: int8
    /// keeps them bfloat16 (their rows are gathered, not streamed, so quantising them saves no pass time).
    public var gathered: WeightPrecision { self == .int8 ? .bfloat16 : self }

    /// Precision of the KV cache beside matrices in this one: int8 weights keep a bfloat16 cache.
    public var cache: WeightPrecision { self == .int8 ? .bfloat16 : self }
}

/// A weight matrix W [rows, cols] (PyTorch's nn.Linear [out, in]) in float32, bfloat16 or int8, packed for
/// the weight-streaming kernels: panels of 16 rows, each stored column-major (`panel[p][i][slot(c)] =
/// W[16p + c][i]`, zero past the last row). A product with a few activation rows reads it once, on every
/// core. float32 and int8 slots are in order; bfloat16 slots swap rows 4–7 with rows 8–11 of each panel, the
/// order in which one 256-bit unpack against zeros widens 16 values into two 8-float vectors (ckernels.h).
/// int8 is symmetric per output row: W[r][i] ≈ q[r][i] · scale[r], scale = max |W[r][·]| / 127.
public struct WeightMatrix: Sendable {
    public let rows: Int, cols: Int
    public enum Storage: Sendable {
        case float32([Float])
        /// Upper halves of float32 values, rounded to nearest even.
        case bfloat16([UInt16])
        /// Quantised values in [-127, 127] and one scale per row (padded to whole panels, zero past `rows`).
        case int8([Int8], scales: [Float])
    }
    /// The packed panels.
    public let storage: Storage

    static let panel = Int(ZIPAR_PANEL)
    var panels: Int { (rows + WeightMatrix.panel - 1) / WeightMatrix.panel }

    public var precision: WeightPrecision {
        switch storage {
        case .float32: return .float32
        case .bfloat16: return .bfloat16
        case .int8: return .int8
        }
    }

    /// Bytes of the packed matrix (what one product reads), scales included.
    public var byteCount: Int {
        panels * WeightMatrix.panel * (cols * precision.size + (precision == .int8 ? 4 : 0))
    }

    /// Where row c of a panel sits within each k-step of the packed panel.
    @inline(__always)
    static func slot(_ c: Int, _ precision: WeightPrecision) -> Int {
        precision == .bfloat16 && (4..<12).contains(c) ? (c < 8 ? c + 4 : c - 4) : c
    }

    /// Element (r, i) as float32 (int8: dequantised).
    @inline(__always)
    func element(_ r: Int, _ i: Int) -> Float {
        let p = WeightMatrix.panel, index = (r / p) * p * cols + i * p + WeightMatrix.slot(r % p, precision)
        switch storage {
        case .float32(let f): return f[index]
        case .bfloat16(let b): return bfloat16Value(b[index])
        case .int8(let q, let scales): return Float(q[index]) * scales[r]
        }
    }

    /// The values row-major as float32.
    public var floats: [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows { for i in 0..<cols { out[r * cols + i] = element(r, i) } }
        return out
    }

    /// Row `r` as float32 (embedding lookups).
    func copyRow(_ r: Int, to out: UnsafeMutablePointer<Float>) {
        for i in 0..<cols { out[i] = element(r, i) }
    }

    /// y[m, rows] (+)= x[m, cols] · Wᵀ; `ldx`/`ldy` are the row strides of x and y.
    public func apply(_ x: UnsafePointer<Float>, m: Int, ldx: Int? = nil, to y: UnsafeMutablePointer<Float>,
                      ldy: Int? = nil, accumulate: Bool = false) {
        let (mm, lx, ly) = (Int64(m), Int64(ldx ?? cols), Int64(ldy ?? rows))
        let (n, k, acc) = (Int64(rows), Int64(cols), Int32(accumulate ? 1 : 0))
        switch storage {
        case .float32(let w):
            w.withUnsafeBufferPointer { wp in
                parallelRanges(panels) { zipar_linear_f32(x, mm, lx, wp.baseAddress!, n, k, Int64($0), Int64($1), y, ly, acc) }
            }
        case .bfloat16(let w):
            w.withUnsafeBufferPointer { wp in
                parallelRanges(panels) { zipar_linear_bf16(x, mm, lx, wp.baseAddress!, n, k, Int64($0), Int64($1), y, ly, acc) }
            }
        case .int8(let w, let scales):
            w.withUnsafeBufferPointer { wp in
                scales.withUnsafeBufferPointer { sp in
                    parallelRanges(panels) {
                        zipar_linear_int8(x, mm, lx, wp.baseAddress!, sp.baseAddress!, n, k, Int64($0), Int64($1), y, ly, acc)
                    }
                }
            }
        }
    }
}

/// float32 → bfloat16 bits, rounded to nearest even (NaN kept NaN).
@inline(__always)
func bfloat16Bits(_ f: Float) -> UInt16 {
    let u = f.bitPattern
    if f.isNaN { return UInt16(u >> 16) | 0x40 }
    return UInt16((u &+ 0x7fff &+ ((u >> 16) & 1)) >> 16)
}

/// bfloat16 bits → float32 (the bits become the upper half; exact).
@inline(__always)
func bfloat16Value(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

/// Splits 0..<n into one contiguous range per pool thread and runs them at once.
func parallelRanges(_ n: Int, _ body: (Int, Int) -> Void) {
    let threads = min(ComputeThreads.count, n)
    if threads <= 1 { body(0, n); return }
    parallelFor(threads) { t in
        let n0 = n * t / threads, n1 = n * (t + 1) / threads
        if n0 < n1 { body(n0, n1) }
    }
}

/// Runs body(i) for i in 0..<count on the kernels' persistent thread pool (every core, the caller included).
func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { body in
        var task = body
        withUnsafeMutablePointer(to: &task) { context in
            zipar_parallel_for(Int64(count), { context, i in
                context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(i))
            }, context)
        }
    }
}

/// How many threads kernels use: every core.
public enum ComputeThreads {
    public static let count = Int(zipar_pool_threads())
}
