// Fully connected layer in Hugging Face's Conv1D layout: weight is [in, out], so y = x·W + b.
// The fast path is BLAS.gemm (ck_sgemm or OpenBLAS sgemm); `LinearReference` is the plain loop the tests compare against.

/// y[N, OC] = x[N, C] · W[C, OC] + b[OC]
public enum Linear {
    /// Overwrites `out` (or adds to it when `accumulate` is true, e.g. onto a residual copy).
    /// Without accumulation the bias is written first and the product added onto it (beta = 1), which
    /// saves the separate pass sgemm makes to zero C when beta = 0.
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               N: Int, C: Int, OC: Int, accumulate: Bool = false) {
        if let bias, !accumulate {
            for row in 0..<N { (out + row * OC).update(from: bias, count: OC) }
            BLAS.gemm(transposeA: false, transposeB: false, m: N, n: OC, k: C,
                      a: inp, lda: C, b: weight, ldb: OC, beta: 1, c: out, ldc: OC)
            return
        }
        BLAS.gemm(transposeA: false, transposeB: false, m: N, n: OC, k: C,
                  a: inp, lda: C, b: weight, ldb: OC, beta: accumulate ? 1 : 0, c: out, ldc: OC)
        if let bias { addBias(out, bias, N: N, OC: OC) }
    }

    /// dinp (+)= dout · Wᵀ; dweight += xᵀ · dout; dbias += Σ_rows dout.
    /// `dinp` is overwritten unless `accumulateInput` is true.
    public static func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                                dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                N: Int, C: Int, OC: Int, accumulateInput: Bool = false) {
        BLAS.gemm(transposeA: false, transposeB: true, m: N, n: C, k: OC,
                  a: dout, lda: OC, b: weight, ldb: OC, beta: accumulateInput ? 1 : 0, c: dinp, ldc: C)
        BLAS.gemm(transposeA: true, transposeB: false, m: C, n: OC, k: N,
                  a: inp, lda: C, b: dout, ldb: OC, beta: 1, c: dweight, ldc: OC)
        if let dbias { sumRows(into: dbias, dout, N: N, OC: OC) }
    }

    @inline(__always)
    static func addBias(_ out: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, N: Int, OC: Int) {
        for row in 0..<N {
            let y = out + row * OC
            for o in 0..<OC { y[o] += bias[o] }
        }
    }

    @inline(__always)
    static func sumRows(into dbias: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, N: Int, OC: Int) {
        for row in 0..<N {
            let d = dout + row * OC
            for o in 0..<OC { dbias[o] += d[o] }
        }
    }
}

/// Plain-loop reference for `Linear`, same contract; used by tests only.
public enum LinearReference {
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               N: Int, C: Int, OC: Int) {
        for row in 0..<N {
            for o in 0..<OC {
                var sum: Float = bias?[o] ?? 0
                for i in 0..<C { sum += inp[row * C + i] * weight[i * OC + o] }
                out[row * OC + o] = sum
            }
        }
    }

    /// `outputMajor` reads (and accumulates) the weight as [OC, C] instead of Conv1D's [C, OC].
    public static func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                                dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                N: Int, C: Int, OC: Int, outputMajor: Bool = false) {
        /// Index of weight (input i, output o).
        func w(_ i: Int, _ o: Int) -> Int { outputMajor ? o * C + i : i * OC + o }
        for row in 0..<N {
            for i in 0..<C {
                var sum: Float = 0
                for o in 0..<OC { sum += dout[row * OC + o] * weight[w(i, o)] }
                dinp[row * C + i] = sum
            }
        }
        for i in 0..<C {
            for o in 0..<OC {
                var sum: Float = 0
                for row in 0..<N { sum += inp[row * C + i] * dout[row * OC + o] }
                dweight[w(i, o)] += sum
            }
        }
        if let dbias {
            for o in 0..<OC {
                var sum: Float = 0
                for row in 0..<N { sum += dout[row * OC + o] }
                dbias[o] += sum
            }
        }
    }
}
