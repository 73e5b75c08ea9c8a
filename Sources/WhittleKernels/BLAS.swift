// Thin, explicit wrappers over OpenBLAS: the engine's only dense-matmul entry point.
// Single-threaded products (the default: data-parallel workers × 1 BLAS thread) run on CKernels'
// ck_sgemm when the CPU has AVX-512: on this engine's shapes it beats OpenBLAS's sgemm by 5-10%
// (see bench/sgemm.c), mostly because it packs only one operand. Multi-threaded products stay on OpenBLAS.

import CKernels
import COpenBLAS

/// Row-major single-precision matrix products (OpenBLAS, or ck_sgemm when single-threaded).
public enum BLAS {
    /// Whether this CPU runs ck_sgemm's AVX-512 path (checked once); without it OpenBLAS does every product.
    static let hasFastSgemm = ck_has_avx512() != 0

    /// Sets the number of threads OpenBLAS uses for each call. Call only when no BLAS call is running.
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(max(count, 1)))
    }

    /// The number of threads OpenBLAS currently uses.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Which library runs fp32 products at the current thread count, for logs and the bench report.
    public static var sgemmDescription: String {
        hasFastSgemm && threadCount == 1 ? "fp32 ck_sgemm (AVX-512), OpenBLAS for other betas"
            : "fp32 OpenBLAS sgemm"
    }

    /// C = alpha * op(A) * op(B) + beta * C, all row-major.
    /// op(A) is M x K, op(B) is K x N, C is M x N; lda/ldb/ldc are the row strides of the stored matrices.
    /// Runs on ck_sgemm when OpenBLAS is set to one thread, beta is 0 or 1 and the CPU has AVX-512
    /// (beta = 0 then never reads C); otherwise on OpenBLAS.
    @inline(__always)
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if hasFastSgemm && (beta == 0 || beta == 1) && openblas_get_num_threads() == 1 {
            ck_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}
