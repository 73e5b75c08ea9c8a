// Products of fp32 activations with a weight operand of any format and orientation: the one
// entry point every linear layer of the forward and backward passes goes through when its
// activations are fp32. fp32 weights run on BLAS.gemm (or plain loops on the reference path);
// other formats run on CKernels' quantized products (`ck_qgemm`: activation rows quantized on the
// fly, integer block dot products, outputs split over the BLAS thread count on CKernels' pool). The reference path
// dequantizes one output row at a time and takes fp32 dot products with every input row.

import CKernels

/// y[N, M] (+)= x[N, K] · W and its gradients, for `WeightOperand`s.
public enum MatrixProduct {
    /// y = x·W + bias, or y += x·W (+ bias) when `accumulate`.
    /// `scratch` holds the quantized activation rows of non-f32 weights (a temporary buffer when nil).
    public static func forward(_ path: KernelPath, out y: UnsafeMutablePointer<Float>, inp x: UnsafePointer<Float>,
                               weight w: WeightOperand, bias: UnsafePointer<Float>?, rows N: Int, accumulate: Bool,
                               scratch: ByteScratch? = nil) {
        let K = w.inputs, M = w.outputs
        // A prefill's bias rows are megabytes: copied on the pool (a copy is the same on any thread count).
        let fillThreads = path == .fast && N >= 16 ? BLAS.threadCount : 1
        if let type = w.format.kernelType {
            if !accumulate { fillRows(y, bias, N: N, M: M, threads: fillThreads) } else if let bias { Linear.addBias(y, bias, N: N, OC: M) }
            switch path {
            case .fast: quantized(type, out: y, inp: x, weight: w, rows: N, scratch: scratch ?? ByteScratch())
            case .reference: reference(out: y, inp: x, weight: w, rows: N)
            }
            return
        }
        if path == .fast, w.orientation == .inputMajor, N <= 2 {
            // Decode: a matrix-vector product streams W once (ck_sgemv on the pool); sgemm would pack it.
            if !accumulate { fillRows(y, bias, N: N, M: M) } else if let bias { Linear.addBias(y, bias, N: N, OC: M) }
            ck_sgemv_threaded(N, M, K, x, w.floats, y, Int32(min(BLAS.threadCount, max(M / 64, 1))))
            return
        }
        switch (path, w.orientation) {
        case (.fast, .inputMajor):
            Linear.forward(out: y, inp: x, weight: w.floats, bias: bias, N: N, C: K, OC: M, accumulate: accumulate)
        case (.fast, _):
            if !accumulate, bias != nil { fillRows(y, bias, N: N, M: M, threads: fillThreads) }
            BLAS.gemm(transposeA: false, transposeB: true, m: N, n: M, k: K, a: x, lda: K, b: w.floats, ldb: K,
                      beta: accumulate || bias != nil ? 1 : 0, c: y, ldc: M)
            if accumulate, let bias { Linear.addBias(y, bias, N: N, OC: M) }
        case (.reference, .inputMajor) where !accumulate:
            LinearReference.forward(out: y, inp: x, weight: w.floats, bias: bias, N: N, C: K, OC: M)
        case (.reference, _):
            if !accumulate { fillRows(y, bias, N: N, M: M) } else if let bias { Linear.addBias(y, bias, N: N, OC: M) }
            reference(out: y, inp: x, weight: w, rows: N)
        }
    }

    /// dinp = dout·Wᵀ (overwritten); dweight += (x, dout) product in W's orientation; dbias += Σ_rows dout.
    /// Gradients exist for fp32 weights only (training runs on the fp32 arena or its 16-bit copy).
    public static func backward(_ path: KernelPath, dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                                dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>, inp x: UnsafePointer<Float>,
                                weight w: WeightOperand, rows N: Int) {
        precondition(w.format == .f32, "backward needs fp32 weights (got \(w.format))")
        let K = w.inputs, M = w.outputs
        switch (path, w.orientation) {
        case (.fast, .inputMajor):
            Linear.backward(dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: x, weight: w.floats,
                            N: N, C: K, OC: M)
        case (.fast, _):
            BLAS.gemm(transposeA: false, transposeB: false, m: N, n: K, k: M, a: dout, lda: M, b: w.floats, ldb: K,
                      beta: 0, c: dinp, ldc: K)
            BLAS.gemm(transposeA: true, transposeB: false, m: M, n: K, k: N, a: dout, lda: M, b: x, ldb: K,
                      beta: 1, c: dweight, ldc: K)
            if let dbias { Linear.sumRows(into: dbias, dout, N: N, OC: M) }
        case (.reference, _):
            LinearReference.backward(dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: x, weight: w.floats,
                                     N: N, C: K, OC: M, outputMajor: w.orientation == .outputMajor)
        }
    }

    /// y += x·W for an output-major quantized or 16-bit W: the input rows are quantized once into
    /// `scratch` (16-bit weights read the fp32 rows as they are), then W's rows are split over the
    /// BLAS thread count on CKernels' worker pool (`ck_qgemm_threaded`: spinning workers, because a
    /// decode step makes dozens of these products a millisecond).
    static func quantized(_ type: Int32, out y: UnsafeMutablePointer<Float>, inp x: UnsafePointer<Float>,
                          weight w: WeightOperand, rows N: Int, scratch: ByteScratch) {
        precondition(w.orientation == .outputMajor, "\(w.format) products read output-major rows")
        let K = w.inputs, M = w.outputs
        let buffer = w.format.halfPrecision != nil ? nil : scratch.bytes(N * ck_qact_row_bytes(type, K))
        let threads = min(BLAS.threadCount, max(M / 32, 1))
        ck_qgemm_threaded(type, N, M, K, w.base, w.rowBytes, x, buffer, y, M, 1, Int32(threads))
    }

    /// y[n, ·] = bias (or 0) for every row, the rows split over `threads` threads of the pool.
    @inline(__always)
    static func fillRows(_ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>?, N: Int, M: Int, threads: Int = 1) {
        let parts = min(max(threads, 1), N)
        Parallel.onPool(parts) { part in
            let rows = Parallel.range(part, of: parts, total: N)
            guard let bias else { return (y + rows.lowerBound * M).update(repeating: 0, count: rows.count * M) }
            for row in rows { (y + row * M).update(from: bias, count: M) }
        }
    }

    /// y += x·W with plain loops: for each output, its K weights (dequantized when stored in a
    /// row format), then one dot product per input row, summed in k order.
    static func reference(out y: UnsafeMutablePointer<Float>, inp x: UnsafePointer<Float>, weight w: WeightOperand, rows N: Int) {
        let K = w.inputs, M = w.outputs
        withUnsafeTemporaryAllocation(of: Float.self, capacity: K) { column in
            let c = column.baseAddress!
            for o in 0..<M {
                weightColumn(w, output: o, into: c)
                for row in 0..<N {
                    let xr = x + row * K
                    var sum: Float = 0
                    for k in 0..<K { sum += xr[k] * c[k] }
                    y[row * M + o] += sum
                }
            }
        }
    }

    /// The K weights feeding output `o`, as floats.
    static func weightColumn(_ w: WeightOperand, output o: Int, into c: UnsafeMutablePointer<Float>) {
        let K = w.inputs, M = w.outputs
        switch w.orientation {
        case .outputMajor:
            w.format.dequantizeRow(w.base + o * w.rowBytes, into: c, count: K)
        default:
            if w.format == .f32 {
                for k in 0..<K { c[k] = w.floats[k * M + o] }
                return
            }
            // Input-major 16-bit formats: one element of each of the K rows.
            let bytes = w.format.traits.bytesPerBlock
            for k in 0..<K { w.format.dequantizeRow(w.base + (k * M + o) * bytes, into: c + k, count: 1) }
        }
    }
}
