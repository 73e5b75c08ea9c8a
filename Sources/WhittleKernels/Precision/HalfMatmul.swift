// Matrix products with 16-bit operands and fp32 accumulation: the matmuls of a bf16 or fp16 step.
// bf16 runs on the CPU's AVX512-BF16 dot-product instructions when present (CKernels' ck_gemm_bf16);
// otherwise (and always for fp16, which this CPU family cannot multiply natively) the operands are
// widened to fp32 and multiplied by the fp32 GEMM (`BLAS.gemm`): the same numbers, without the speed. `runsNatively`
// says which path runs, so the UI and logs can report a fallback. Native products use the caller's
// thread when OpenBLAS is set to one thread (workers × 1), else split C's rows over BLAS.threadCount.

import CKernels

/// Row-major products C = op(A)·op(B) with A and B stored in 16 bits.
public enum HalfMatmul {
    /// Whether products in `format` run on native 16-bit instructions (else: widened to fp32).
    public static func runsNatively(_ format: Precision) -> Bool {
        format == .bf16 && hasAVX512BF16
    }

    /// Whether this CPU executes AVX512-BF16 (checked once).
    static let hasAVX512BF16 = ck_has_avx512_bf16() != 0

    /// Runs `body(rows)` over C's rows, split over the BLAS thread count when that is > 1 and there are
    /// enough rows (each part at least 64).
    @inline(__always)
    static func splitRows(_ m: Int, _ body: (Range<Int>) -> Void) {
        let parts = min(BLAS.threadCount, max(m / 64, 1))
        if parts <= 1 { return body(0..<m) }
        Parallel.forEach(parts) { body(Parallel.range($0, of: parts, total: m)) }
    }

    /// How a run at `precision` multiplies, for logs and the bench report.
    public static func pathDescription(_ precision: Precision) -> String {
        switch precision {
        case .fp32: return BLAS.sgemmDescription
        case .bf16 where runsNatively(.bf16): return "bf16 AVX512-BF16 dot products, fp32 accumulation"
        case .bf16: return "bf16 storage, products widened to \(BLAS.sgemmDescription) (this CPU has no AVX512-BF16)"
        case .fp16: return "fp16 storage, products widened to \(BLAS.sgemmDescription) (no native fp16 matmul on this CPU)"
        }
    }

    /// Widens both operands into `scratch` and multiplies them with the fp32 GEMM (`BLAS.gemm`).
    static func widenedProduct(_ format: Precision, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                               a: UnsafePointer<UInt16>, lda: Int, b: UnsafePointer<UInt16>, ldb: Int,
                               c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, alpha: Float,
                               scratch: MatmulScratch) {
        // Stored shapes: A is (transposeA ? k×m : m×k), B is (transposeB ? n×k : k×n).
        let (aRows, aCols) = transposeA ? (k, m) : (m, k)
        let (bRows, bCols) = transposeB ? (n, k) : (k, n)
        let wa = scratch.a(aRows * aCols), wb = scratch.b(bRows * bCols)
        for r in 0..<aRows { HalfConversion.widen(a + r * lda, to: wa + r * aCols, count: aCols, format: format) }
        for r in 0..<bRows { HalfConversion.widen(b + r * ldb, to: wb + r * bCols, count: bCols, format: format) }
        BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                  a: wa, lda: aCols, b: wb, ldb: bCols, beta: accumulate ? 1 : 0, c: c, ldc: ldc)
    }

    /// C (fp32) = alpha·op(A)·op(B), or C += alpha·op(A)·op(B) when `accumulate`.
    @inline(__always)
    public static func product(_ format: Precision, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                               a: UnsafePointer<UInt16>, lda: Int, b: UnsafePointer<UInt16>, ldb: Int,
                               c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, alpha: Float = 1,
                               scratch: MatmulScratch) {
        guard runsNatively(format) else {
            return widenedProduct(format, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a,
                                  lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate, alpha: alpha,
                                  scratch: scratch)
        }
        splitRows(m) { rows in
            let aPart = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
            ck_gemm_bf16(transposeA ? 1 : 0, transposeB ? 1 : 0, rows.count, n, k, alpha, aPart, lda, b, ldb,
                         c + rows.lowerBound * ldc, ldc, accumulate ? 1 : 0)
        }
    }

    /// C16 = round(bias + op(A)·op(B)) in `format`; `scratch.c` holds the fp32 product on the fallback path.
    @inline(__always)
    public static func roundedProduct(_ format: Precision, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                                      a: UnsafePointer<UInt16>, lda: Int, b: UnsafePointer<UInt16>, ldb: Int,
                                      c: UnsafeMutablePointer<UInt16>, ldc: Int, bias: UnsafePointer<Float>?,
                                      scratch: MatmulScratch) {
        if runsNatively(format) {
            splitRows(m) { rows in
                let aPart = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
                ck_gemm_bf16_out_bf16(transposeA ? 1 : 0, transposeB ? 1 : 0, rows.count, n, k, aPart, lda, b, ldb,
                                      c + rows.lowerBound * ldc, ldc, bias)
            }
            return
        }
        let wide = scratch.c(m * n)
        if let bias {
            for row in 0..<m { (wide + row * n).update(from: bias, count: n) }
        }
        widenedProduct(format, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda,
                       b: b, ldb: ldb, c: wide, ldc: n, accumulate: bias != nil, alpha: 1, scratch: scratch)
        for row in 0..<m { HalfConversion.round(wide + row * n, to: c + row * ldc, count: n, format: format) }
    }
}

/// fp32 work buffers for the widening fallback (one per worker), sized for the largest operands up
/// front so the ledger is exact; a larger request (not made by GPT) grows them.
public final class MatmulScratch: @unchecked Sendable {
    private var buffers: [FloatBuffer]

    public init(a: Int = 0, b: Int = 0, c: Int = 0) {
        buffers = [FloatBuffer(count: a), FloatBuffer(count: b), FloatBuffer(count: c)]
    }

    private func buffer(_ index: Int, _ count: Int) -> UnsafeMutablePointer<Float> {
        if buffers[index].count < count { buffers[index] = FloatBuffer(count: count) }
        return buffers[index].pointer
    }

    func a(_ count: Int) -> UnsafeMutablePointer<Float> { buffer(0, count) }
    func b(_ count: Int) -> UnsafeMutablePointer<Float> { buffer(1, count) }
    func c(_ count: Int) -> UnsafeMutablePointer<Float> { buffer(2, count) }

    /// Bytes currently held.
    public var byteCount: Int { buffers.reduce(0) { $0 + $1.byteCount } }
}
