#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// C[m×n] = alpha · A · B + beta · C, all row-major float32.
/// `transA`/`transB`: A is stored as [k×m] / B as [n×k] (i.e. use the transpose).
/// Leading dimensions default to the tight row length of each stored matrix.
@inline(__always)
public func sgemm(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, transA: Bool = false, lda: Int? = nil,
    b: UnsafePointer<Float>, transB: Bool = false, ldb: Int? = nil,
    c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
    alpha: Float = 1, beta: Float = 0
) {
    let lda = lda ?? (transA ? m : k)
    let ldb = ldb ?? (transB ? k : n)
    let ldc = ldc ?? n
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}
