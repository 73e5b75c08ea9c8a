// Thin, explicit wrappers over OpenBLAS: the engine's only dense-matmul entry point.

import COpenBLAS

/// Row-major single-precision matrix products on OpenBLAS.
public enum BLAS {
    /// Sets the number of threads OpenBLAS uses for each call. Call only when no BLAS call is running.
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(max(count, 1)))
    }

    /// The number of threads OpenBLAS currently uses.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// C = alpha * op(A) * op(B) + beta * C, all row-major.
    /// op(A) is M x K, op(B) is K x N, C is M x N; lda/ldb/ldc are the row strides of the stored matrices.
    @inline(__always)
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}
