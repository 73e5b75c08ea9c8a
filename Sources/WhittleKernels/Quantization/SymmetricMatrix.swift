// Dense symmetric positive-definite algebra in Double for GPTQ: Cholesky factorisation, and the
// upper-triangular factor U of H⁻¹ (H⁻¹ = UᵀU) that GPTQ's column loop reads. U is found without
// forming H⁻¹: with J the reversal permutation, J·H·J = M·Mᵀ (M lower), and H⁻¹ = (J·M⁻¹·J)ᵀ(J·M⁻¹·J),
// where J·M⁻¹·J is upper triangular. Also the quadratic form Σ_r Δw_r·H·Δw_rᵀ that measures a layer's
// output error ‖XΔWᵀ‖² from its Hessian alone, and the Gram accumulation H += XᵀX that calibration runs.

/// Dense K×K matrix helpers (row-major).
public enum SymmetricMatrix {
    /// In-place lower Cholesky factor of the n×n matrix `a` (its upper part is zeroed); false when
    /// `a` is not positive definite (a pivot ≤ 0 or not finite).
    public static func choleskyLower(_ a: UnsafeMutablePointer<Double>, n: Int) -> Bool {
        for j in 0..<n {
            let rowJ = a + j * n
            var pivot = rowJ[j]
            for k in 0..<j { pivot -= rowJ[k] * rowJ[k] }
            guard pivot > 0, pivot.isFinite else { return false }
            let diagonal = pivot.squareRoot()
            rowJ[j] = diagonal
            let inverse = 1 / diagonal
            for i in (j + 1)..<max(n, j + 1) {
                let rowI = a + i * n
                var sum = rowI[j]
                for k in 0..<j { sum -= rowI[k] * rowJ[k] }
                rowI[j] = sum * inverse
            }
            for k in (j + 1)..<max(n, j + 1) { rowJ[k] = 0 }
        }
        return true
    }

    /// Inverts the lower-triangular n×n `l` in place, row by row: X[i, ..<i] = −(Σ_k<i L[i,k]·X[k, ..<i]) / L[i,i],
    /// so the inner loop runs along contiguous rows.
    public static func invertLower(_ l: UnsafeMutablePointer<Double>, n: Int) {
        let row = UnsafeMutablePointer<Double>.allocate(capacity: max(n, 1))
        defer { row.deallocate() }
        for i in 0..<n {
            let li = l + i * n
            row.update(repeating: 0, count: i)
            for k in 0..<i {
                let factor = li[k], xk = l + k * n
                for j in 0...k { row[j] += factor * xk[j] }
            }
            let inverse = 1 / li[i]
            for j in 0..<i { li[j] = -row[j] * inverse }
            li[i] = inverse
        }
    }

    /// The upper-triangular U with H⁻¹ = UᵀU, for the symmetric positive-definite n×n `h`, written to
    /// `u` (n×n, lower part zero); false when `h` is not positive definite.
    public static func inverseCholeskyUpper(_ h: UnsafePointer<Double>, n: Int, into u: UnsafeMutablePointer<Double>) -> Bool {
        let m = UnsafeMutablePointer<Double>.allocate(capacity: n * n)
        defer { m.deallocate() }
        for i in 0..<n {
            for j in 0..<n { m[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)] }
        }
        guard choleskyLower(m, n: n) else { return false }
        invertLower(m, n: n)
        for i in 0..<n {
            for j in 0..<n { u[i * n + j] = m[(n - 1 - i) * n + (n - 1 - j)] }
        }
        return true
    }

    /// Σ_r Δw_r·H·Δw_rᵀ for `rows` rows Δw_r of length n (row-major) and the symmetric n×n `h`:
    /// ‖XΔWᵀ‖² when H = XᵀX. Products in fp32 (BLAS), the sum in Double.
    public static func quadraticForm(_ delta: UnsafePointer<Float>, rows: Int, n: Int, h: UnsafePointer<Float>) -> Double {
        guard rows > 0, n > 0 else { return 0 }
        let product = UnsafeMutablePointer<Float>.allocate(capacity: rows * n)
        defer { product.deallocate() }
        BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: n, k: n, a: delta, lda: n, b: h, ldb: n,
                  beta: 0, c: product, ldc: n)
        var total: Double = 0
        for r in 0..<rows {
            var sum: Double = 0
            for k in 0..<n { sum += Double(product[r * n + k]) * Double(delta[r * n + k]) }
            total += sum
        }
        return total
    }

    /// hessian += XᵀX for `rows` rows of width n (an fp32 product of these rows in `scratch`, n×n,
    /// added into Double sums); absolute += Σ_rows |x|.
    public static func accumulateGram(_ x: UnsafePointer<Float>, rows: Int, n: Int, scratch: UnsafeMutablePointer<Float>,
                                      hessian: UnsafeMutablePointer<Double>, absolute: UnsafeMutablePointer<Double>) {
        BLAS.gemm(transposeA: true, transposeB: false, m: n, n: n, k: rows, a: x, lda: n, b: x, ldb: n,
                  beta: 0, c: scratch, ldc: n)
        for i in 0..<(n * n) { hessian[i] += Double(scratch[i]) }
        for r in 0..<rows {
            let row = x + r * n
            for j in 0..<n { absolute[j] += Double(abs(row[j])) }
        }
    }
}
