// The column sweep GPTQ and SparseGPT share (the optimal-brain-surgeon update with GPTQ's lazy
// batches): columns of a column-major working copy w (w[i * rows + r] = W[r, i]) are visited in
// order; `visit` decides column i for every row (rounds it, or prunes some of it) and writes each
// row's error (old − new) / U_ii. The error reaches the later columns of its batch at once (through
// row i of U) and the columns after the batch in one product per batch.

extension GPTQ {
    /// Sweeps columns 0..<K of `w` (rows × K, column-major) in batches of `batch` columns, with U the
    /// upper Cholesky factor of H⁻¹ (K × K, row-major). `visit(i, column, pivot, error)`
    /// updates column i in place and sets error[r] = (old − new) / pivot for every row; `errors` has
    /// room for batch × rows values.
    static func sweepColumns(w: UnsafeMutablePointer<Float>, rows: Int, K: Int, u: UnsafePointer<Float>, batch: Int,
                             errors: UnsafeMutablePointer<Float>,
                             visit: (_ i: Int, _ column: UnsafeMutablePointer<Float>, _ pivot: Float, _ error: UnsafeMutablePointer<Float>) -> Void) {
        var start = 0
        while start < K {
            let end = min(start + batch, K)
            for i in start..<end {
                let error = errors + (i - start) * rows
                visit(i, w + i * rows, u[i * K + i], error)
                // Inside the batch: every later column j gets −error · U[i, j].
                for j in (i + 1)..<max(end, i + 1) {
                    let factor = u[i * K + j]
                    if factor == 0 { continue }
                    let target = w + j * rows
                    for r in 0..<rows { target[r] -= error[r] * factor }
                }
            }
            // Lazy batch update: w[end..<K] −= U[start..<end, end..<K]ᵀ · errors.
            if end < K {
                BLAS.gemm(transposeA: true, transposeB: false, m: K - end, n: rows, k: end - start, alpha: -1,
                          a: u + start * K + end, lda: K, b: errors, ldb: rows, beta: 1, c: w + end * rows, ldc: rows)
            }
            start = end
        }
    }
}
