// The fp32 GEMM (CKernels' ck_sgemm) against a plain Double reference, on both the AVX-512 path (when
// the CPU has it) and the portable path: all four transpose combinations, alpha 1 and not, beta 0
// (C prefilled with NaN, which must not leak) and 1, sizes around the kernel's 8 x 32 tile and
// 16-column panels in every dimension, padded row strides (padding never written), and shapes that
// cross the row, column and k blocks. Also BLAS.gemm, which routes single-threaded products here.

import CKernels
import Testing
import WhittleKernels

@Suite struct SgemmTests {
    /// Which implementation a test runs: the portable one, or the dispatched one (the AVX-512 kernel on
    /// CPUs that have it, tested by `SgemmAVX512Tests`; elsewhere it is the portable one again).
    enum Path: String, CaseIterable, Sendable { case dispatched, portable }

    struct Case: Sendable, CustomTestStringConvertible {
        let transA: Bool, transB: Bool, M: Int, N: Int, K: Int, pad: Int
        var testDescription: String { "ta=\(transA) tb=\(transB) M=\(M) N=\(N) K=\(K) pad=\(pad)" }
    }

    static let sizes = [1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 64, 65, 129]

    /// Every size appears in every dimension for each transpose combination, paired off by fixed
    /// strides (the full cross product would be 8788 cases per combination), plus shapes beyond one
    /// k block (512), one row block (384) and one column block (1024).
    static let cases: [Case] = {
        var cases: [Case] = []
        let n = sizes.count
        for combo in 0..<4 {
            let (ta, tb) = (combo & 1 == 1, combo & 2 == 2)
            for i in 0..<n {
                for j in 0..<3 {
                    let M = sizes[i], N = sizes[(i * 5 + j * 3 + combo) % n], K = sizes[(i * 7 + j * 4 + combo * 3) % n]
                    cases.append(Case(transA: ta, transB: tb, M: M, N: N, K: K, pad: (i + j) % 3 == 0 ? 0 : 3))
                }
            }
            cases.append(Case(transA: ta, transB: tb, M: 9, N: 40, K: 1100, pad: 1))
            cases.append(Case(transA: ta, transB: tb, M: 393, N: 17, K: 20, pad: 0))
            cases.append(Case(transA: ta, transB: tb, M: 10, N: 1059, K: 5, pad: 2))
        }
        return cases
    }()

    struct Operands {
        let a: [Float], b: [Float], lda: Int, ldb: Int, ldc: Int
    }

    /// Uniform values in (-1, 1) from a xorshift stream (debug builds are slow at Float.random).
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed | 1
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Float(state >> 40) * 0x1p-23 - 1
        }
    }

    static func operands(_ c: Case, seed: UInt64) -> Operands {
        let lda = (c.transA ? c.M : c.K) + c.pad, ldb = (c.transB ? c.K : c.N) + c.pad, ldc = c.N + c.pad
        return Operands(a: random((c.transA ? c.K : c.M) * lda, seed: seed),
                        b: random((c.transB ? c.N : c.K) * ldb, seed: seed ^ 0x5555), lda: lda, ldb: ldb, ldc: ldc)
    }

    /// op(A) op(B) summed in Double, and per element the sum of the terms' magnitudes (the error
    /// scale), both M x N row-major.
    static func reference(_ c: Case, _ o: Operands) -> (sum: [Double], scale: [Double]) {
        var sums = [Double](repeating: 0, count: c.M * c.N), scales = sums
        for m in 0..<c.M {
            for n in 0..<c.N {
                var sum = 0.0, scale = 0.0
                for k in 0..<c.K {
                    let a = Double(c.transA ? o.a[k * o.lda + m] : o.a[m * o.lda + k])
                    let b = Double(c.transB ? o.b[n * o.ldb + k] : o.b[k * o.ldb + n])
                    sum += a * b
                    scale += abs(a * b)
                }
                sums[m * c.N + n] = sum
                scales[m * c.N + n] = scale
            }
        }
        return (sums, scales)
    }

    static func sgemm(_ path: Path, _ c: Case, _ o: Operands, alpha: Float, beta: Float, _ out: inout [Float]) {
        let f = path == .portable ? ck_sgemm_portable : ck_sgemm
        f(c.transA ? 1 : 0, c.transB ? 1 : 0, c.M, c.N, c.K, alpha, o.a, o.lda, o.b, o.ldb, beta, &out, o.ldc)
    }

    @Test(arguments: cases)
    func testSgemm_matchesReference(c: Case) { Self.checkAgainstReference(c, paths: [.portable]) }

    /// Per case, on `paths`, for alpha in {1, 0.37} and beta in {0, 1}:
    /// |C − (alpha·ref + beta·C₀)| ≤ 1e-6 √K (|alpha| Σ|terms| + |C₀|); C₀ is NaN where beta = 0 (it must
    /// not be read). Elements in the ldc padding past the N columns of each row stay untouched.
    static func checkAgainstReference(_ c: Case, paths: [Path]) {
        let o = Self.operands(c, seed: UInt64(c.M * 10_007 + c.N * 101 + c.K))
        let (sums, scales) = Self.reference(c, o)
        let initial: [Float] = (0..<(c.M * o.ldc)).map { i in Float(i % 13) * 0.25 - 1.5 }
        let sentinel: Float = 12345
        for path in paths {
            for alpha: Float in [1, 0.37] {
                for beta: Float in [0, 1] {
                    var out = beta == 0 ? [Float](repeating: .nan, count: c.M * o.ldc) : initial
                    for i in 0..<out.count where i % o.ldc >= c.N { out[i] = sentinel }
                    Self.sgemm(path, c, o, alpha: alpha, beta: beta, &out)
                    var worst = 0.0, padding = 0
                    for m in 0..<c.M {
                        for n in 0..<o.ldc {
                            let got = out[m * o.ldc + n]
                            if n >= c.N { if got != sentinel { padding += 1 }; continue }
                            let c0 = beta == 0 ? 0 : Double(initial[m * o.ldc + n])
                            let want = Double(alpha) * sums[m * c.N + n] + c0
                            let bound = 1e-6 * Double(max(c.K, 1)).squareRoot()
                                * (Double(alpha) * scales[m * c.N + n] + abs(c0)) + 1e-30
                            let error = abs(Double(got) - want) / bound
                            worst = error.isNaN ? .infinity : max(worst, error)
                        }
                    }
                    #expect(worst <= 1, "\(path) alpha=\(alpha) beta=\(beta): error / bound = \(worst)")
                    #expect(padding == 0, "\(path) alpha=\(alpha) beta=\(beta)")
                }
            }
        }
    }

    /// K = 0 or alpha = 0: C becomes zero (beta 0, even over NaN) or stays (beta 1); M = 0 or N = 0 write nothing.
    @Test(arguments: [Path.portable])
    func testSgemm_emptyProducts(path: Path) {
        let gemm = path == .portable ? ck_sgemm_portable : ck_sgemm
        let a = [Float](repeating: 1, count: 16), b = a
        var c = [Float](repeating: 7, count: 6)
        gemm(0, 0, 2, 3, 0, 1, a, 1, b, 3, 1, &c, 3)
        #expect(c == [Float](repeating: 7, count: 6))
        gemm(0, 0, 2, 3, 4, 0, a, 4, b, 3, 1, &c, 3)
        #expect(c == [Float](repeating: 7, count: 6))
        c = [Float](repeating: .nan, count: 6)
        gemm(0, 0, 2, 3, 0, 1, a, 1, b, 3, 0, &c, 3)
        #expect(c == [Float](repeating: 0, count: 6))
        c = [Float](repeating: .nan, count: 6)
        gemm(0, 0, 2, 3, 4, 0, a, 4, b, 3, 0, &c, 3)
        #expect(c == [Float](repeating: 0, count: 6))
        gemm(0, 0, 0, 3, 4, 1, a, 4, b, 3, 0, &c, 3)
        gemm(0, 0, 2, 0, 4, 1, a, 4, b, 3, 0, &c, 3)
        #expect(c == [Float](repeating: 0, count: 6))
    }

    /// BLAS.gemm (ck_sgemm when single-threaded and beta is 0 or 1, else OpenBLAS) agrees with the
    /// reference for betas on both routes, at one BLAS thread.
    @Test func testBlasGemm_routesMatchReference() {
        let c = Case(transA: true, transB: false, M: 37, N: 70, K: 45, pad: 1)
        let o = Self.operands(c, seed: 3)
        let (sums, scales) = Self.reference(c, o)
        for beta: Float in [0, 1, 0.5] {
            var out = [Float](repeating: beta == 0 ? .nan : 2, count: c.M * o.ldc)
            o.a.withUnsafeBufferPointer { a in
                o.b.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { out in
                        BLAS.gemm(transposeA: true, transposeB: false, m: c.M, n: c.N, k: c.K, alpha: 0.5,
                                  a: a.baseAddress!, lda: o.lda, b: b.baseAddress!, ldb: o.ldb, beta: beta,
                                  c: out.baseAddress!, ldc: o.ldc)
                    }
                }
            }
            var worst = 0.0
            for m in 0..<c.M {
                for n in 0..<c.N {
                    let want = 0.5 * sums[m * c.N + n] + Double(beta == 0 ? 0 : 2 * beta)
                    let bound = 1e-6 * Double(c.K).squareRoot() * (0.5 * scales[m * c.N + n] + 2) + 1e-30
                    let error = abs(Double(out[m * o.ldc + n]) - want) / bound
                    worst = error.isNaN ? .infinity : max(worst, error)
                }
            }
            #expect(worst <= 1, "beta=\(beta): error / bound = \(worst)")
        }
    }
}

/// The same checks on the AVX-512 kernel that `ck_sgemm` dispatches to. Skipped, with the reason, on
/// CPUs without AVX-512 (such as the AMD Zen 3 these tests were written on), where `ck_sgemm` runs
/// the portable path that `SgemmTests` already checks.
@Suite(.enabled(if: ck_has_avx512() != 0,
                "this CPU has no AVX-512 F/BW/VL: ck_sgemm runs its portable path here, covered by SgemmTests"))
struct SgemmAVX512Tests {
    @Test(arguments: SgemmTests.cases)
    func testSgemm_avx512MatchesReference(c: SgemmTests.Case) { SgemmTests.checkAgainstReference(c, paths: [.dispatched]) }

    @Test func testSgemm_avx512EmptyProducts() { SgemmTests().testSgemm_emptyProducts(path: .dispatched) }
}
