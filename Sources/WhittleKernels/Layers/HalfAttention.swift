// Causal multi-head attention with 16-bit storage: q, k, v, the probabilities and the output are
// bf16/fp16, scores and softmax are computed in fp32 (as PyTorch's autocast does), and every matmul
// takes 16-bit operands. Same row-blocked causal schedule as `Attention`, which is its reference.
// C is the block's attention width, as in `Attention`.

/// `Attention` over 16-bit activations.
public enum HalfAttention {
    /// Dropout on rows `rows` (columns 0..<keys) of head (b, h)'s 16-bit probabilities, into `dropped`
    /// (16 bits), through `dropout.scratch` (fp32); forward and backward both call it, so they agree.
    static func dropRounded(_ p: UnsafePointer<UInt16>, into dropped: UnsafeMutablePointer<UInt16>, rows: Range<Int>,
                            keys: Int, b: Int, h: Int, NH: Int, T: Int, format: Precision,
                            dropout: Attention.ProbabilityDropout) {
        for t in rows {
            let row = dropout.scratch + t * T
            let index = (((dropout.settings.firstSequence + b) * NH + h) * T + t) * T
            HalfConversion.widen(p + t * T, to: row, count: keys, format: format)
            Dropout.apply(row, count: keys, probability: dropout.settings.probability, seed: dropout.seed,
                          firstIndex: index)
            HalfConversion.round(row, to: dropped + t * T, count: keys, format: format)
        }
    }

    /// - Parameters: out [B,T,C], probs [B,NH,T,T] (before dropout, upper triangle zero) and qkv
    ///   [B,T,3C] in `format`; `scores` is an fp32 T×T scratch. With dropout, `dropout.scratch` is a
    ///   second fp32 T×T scratch and `dropped` a 16-bit one.
    static func forward(out: UnsafeMutablePointer<UInt16>, probs: UnsafeMutablePointer<UInt16>,
                        qkv: UnsafePointer<UInt16>, scores: UnsafeMutablePointer<Float>, B: Int, T: Int, C: Int, NH: Int,
                        format: Precision, matmul: MatmulScratch,
                        dropout: Attention.ProbabilityDropout?, dropped: UnsafeMutablePointer<UInt16>) {
        let hs = C / NH
        let scale = 1 / Float(hs).squareRoot()
        for b in 0..<B {
            for h in 0..<NH {
                let q = qkv + b * T * 3 * C + h * hs
                let k = q + C
                let v = q + 2 * C
                let p = probs + (b * NH + h) * T * T
                let y = out + b * T * C + h * hs
                for rows in Attention.rowBlocks(T) where !rows.isEmpty {
                    let r0 = rows.lowerBound, m = rows.count, keys = rows.upperBound
                    HalfMatmul.product(format, transposeA: false, transposeB: true, m: m, n: keys, k: hs,
                                       a: q + r0 * 3 * C, lda: 3 * C, b: k, ldb: 3 * C,
                                       c: scores + r0 * T, ldc: T, accumulate: false, alpha: scale, scratch: matmul)
                    Attention.causalSoftmax(scores, rows: rows, T: T)
                    for t in rows { HalfConversion.round(scores + t * T, to: p + t * T, count: T, format: format) }
                    var weights = UnsafePointer(p)
                    if let dropout {
                        dropRounded(p, into: dropped, rows: rows, keys: keys, b: b, h: h, NH: NH, T: T,
                                    format: format, dropout: dropout)
                        weights = UnsafePointer(dropped)
                    }
                    HalfMatmul.roundedProduct(format, transposeA: false, transposeB: false, m: m, n: hs, k: keys,
                                              a: weights + r0 * T, lda: T, b: v, ldb: 3 * C,
                                              c: y + r0 * C, ldc: C, bias: nil, scratch: matmul)
                }
            }
        }
    }

    /// Writes the fp32 gradient dqkv [B,T,3C] (every element) from the 16-bit dout [B,T,C] (row stride C).
    /// `scores` is an fp32 T×T scratch; `scoresGradient` a 16-bit T×T scratch; `probabilityRow` an fp32
    /// [T] scratch (one probability row widened for the softmax backward). Returns the count of
    /// nonzero score gradients that rounding to 16 bits flushed to zero.
    static func backward(dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<UInt16>, qkv: UnsafePointer<UInt16>,
                         probs: UnsafePointer<UInt16>, scores: UnsafeMutablePointer<Float>,
                         scoresGradient: UnsafeMutablePointer<UInt16>, probabilityRow: UnsafeMutablePointer<Float>, B: Int, T: Int, C: Int, NH: Int,
                         format: Precision, matmul: MatmulScratch,
                         dropout: Attention.ProbabilityDropout?, dropped: UnsafeMutablePointer<UInt16>) -> Int {
        let hs = C / NH
        let scale = 1 / Float(hs).squareRoot()
        let dp = scores
        var flushed = 0
        for b in 0..<B {
            for h in 0..<NH {
                let q = qkv + b * T * 3 * C + h * hs
                let k = q + C
                let v = q + 2 * C
                let dq = dqkv + b * T * 3 * C + h * hs
                let dk = dq + C
                let dv = dq + 2 * C
                let p = probs + (b * NH + h) * T * T
                let dy = dout + b * T * C + h * hs
                Attention.zeroKeyValueGradients(dk, dv, T: T, C: C, hs: hs)
                for rows in Attention.rowBlocks(T) where !rows.isEmpty {
                    let r0 = rows.lowerBound, m = rows.count, keys = rows.upperBound
                    // dP = dY · Vᵀ ; dV += Pᵀ · dY (P after dropout, and dP masked back, as in fp32)
                    HalfMatmul.product(format, transposeA: false, transposeB: true, m: m, n: keys, k: hs,
                                       a: dy + r0 * C, lda: C, b: v, ldb: 3 * C, c: dp + r0 * T, ldc: T,
                                       accumulate: false, scratch: matmul)
                    var weights = p
                    if let dropout {
                        dropRounded(p, into: dropped, rows: rows, keys: keys, b: b, h: h, NH: NH, T: T,
                                    format: format, dropout: dropout)
                        for t in rows {
                            let index = (((dropout.settings.firstSequence + b) * NH + h) * T + t) * T
                            Dropout.apply(dp + t * T, count: keys, probability: dropout.settings.probability,
                                          seed: dropout.seed, firstIndex: index)
                        }
                        weights = UnsafePointer(dropped)
                    }
                    HalfMatmul.product(format, transposeA: true, transposeB: false, m: keys, n: hs, k: m,
                                       a: weights + r0 * T, lda: T, b: dy + r0 * C, ldb: C, c: dv, ldc: 3 * C,
                                       accumulate: true, scratch: matmul)
                    // dS as in fp32, from the widened probabilities, then rounded.
                    for t in rows {
                        HalfConversion.widen(p + t * T, to: probabilityRow, count: t + 1, format: format)
                        Attention.softmaxBackwardRow(probabilityRow, gradient: dp + t * T, t: t, keys: keys, scale: scale)
                        flushed += HalfConversion.round(dp + t * T, to: scoresGradient + t * T, count: keys, format: format)
                    }
                    // dQ = dS · K ; dK += dSᵀ · Q
                    HalfMatmul.product(format, transposeA: false, transposeB: false, m: m, n: hs, k: keys,
                                       a: scoresGradient + r0 * T, lda: T, b: k, ldb: 3 * C, c: dq + r0 * 3 * C,
                                       ldc: 3 * C, accumulate: false, scratch: matmul)
                    HalfMatmul.product(format, transposeA: true, transposeB: false, m: keys, n: hs, k: m,
                                       a: scoresGradient + r0 * T, lda: T, b: q + r0 * 3 * C, ldb: 3 * C, c: dk,
                                       ldc: 3 * C, accumulate: true, scratch: matmul)
                }
            }
        }
        return flushed
    }
}
