// Causal multi-head self-attention over a packed qkv buffer [B, T, 3C] (q | k | v per row, heads
// side by side inside each), the layout Hugging Face's c_attn produces. Fast path: per (batch, head)
// sgemm calls; `AttentionReference` is the plain loop the tests compare against.
// Here C is the block's attention width (its heads × the head width): the model width in a full
// block, less in a block that lost heads.

import Foundation

/// out[b,t,h·hs..] = softmax(q·kᵀ/√hs, causal) · v for every head h.
///
/// Queries are processed in row blocks; block [r0, r1) only multiplies against keys 0..<r1, so the
/// masked upper triangle is mostly never computed (4 blocks: 62.5% of the full T×T work).
public enum Attention {
    /// Query-row blocks for a sequence of length T (contiguous, covering 0..<T).
    @inline(__always)
    static func rowBlocks(_ T: Int) -> [Range<Int>] {
        let count = T >= 128 ? 4 : (T >= 32 ? 2 : 1)
        return (0..<count).map { i in (i * T / count)..<((i + 1) * T / count) }
    }

    /// Dropout on the attention probabilities: settings, this site's seed and a T×T scratch.
    public typealias ProbabilityDropout = (settings: DropoutSettings, seed: UInt64, scratch: UnsafeMutablePointer<Float>)

    /// Applies dropout to rows `rows` (columns 0..<keys) of head (b, h)'s probabilities, copied into the scratch.
    @inline(__always)
    static func dropProbabilities(_ p: UnsafePointer<Float>, into scratch: UnsafeMutablePointer<Float>, rows: Range<Int>,
                                  keys: Int, b: Int, h: Int, NH: Int, T: Int, dropout: ProbabilityDropout) {
        let settings = dropout.settings
        for t in rows {
            (scratch + t * T).update(from: p + t * T, count: keys)
            let index = (((settings.firstSequence + b) * NH + h) * T + t) * T
            Dropout.apply(scratch + t * T, count: keys, probability: settings.probability, seed: dropout.seed,
                          firstIndex: index)
        }
    }

    /// - Parameters: out [B,T,C]; probs [B,NH,T,T] (saved before dropout; upper triangle zero); qkv [B,T,3C].
    public static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                               qkv: UnsafePointer<Float>, B: Int, T: Int, C: Int, NH: Int,
                               dropout: ProbabilityDropout? = nil) {
        let hs = C / NH
        let scale = 1 / Float(hs).squareRoot()
        let blocks = rowBlocks(T)
        for b in 0..<B {
            for h in 0..<NH {
                let q = qkv + b * T * 3 * C + h * hs
                let k = q + C
                let v = q + 2 * C
                let p = probs + (b * NH + h) * T * T
                let y = out + b * T * C + h * hs
                for rows in blocks where !rows.isEmpty {
                    let r0 = rows.lowerBound, m = rows.count, keys = rows.upperBound
                    BLAS.gemm(transposeA: false, transposeB: true, m: m, n: keys, k: hs, alpha: scale,
                              a: q + r0 * 3 * C, lda: 3 * C, b: k, ldb: 3 * C, beta: 0, c: p + r0 * T, ldc: T)
                    causalSoftmax(p, rows: rows, T: T)
                    var weights = UnsafePointer(p)
                    if let dropout {
                        dropProbabilities(p, into: dropout.scratch, rows: rows, keys: keys, b: b, h: h, NH: NH, T: T,
                                          dropout: dropout)
                        weights = UnsafePointer(dropout.scratch)
                    }
                    BLAS.gemm(transposeA: false, transposeB: false, m: m, n: hs, k: keys,
                              a: weights + r0 * T, lda: T, b: v, ldb: 3 * C, beta: 0, c: y + r0 * C, ldc: C)
                }
            }
        }
    }

    /// Softmax of each row t in `rows` over columns 0...t; columns after t become 0.
    /// exp runs over whole 16-wide chunks (entries past t are finite, then zeroed), so the loops
    /// carry no scalar remainder; on short causal rows the remainders cost more than the extra lanes.
    @inline(__always)
    static func causalSoftmax(_ p: UnsafeMutablePointer<Float>, rows: Range<Int>, T: Int) {
        for t in rows {
            let row = p + t * T
            let count = t + 1
            let padded = min(T, (count + 15) & ~15)
            let maximum = VectorMath.maximum(row, count)
            for j in 0..<padded { row[j] = FastMath.exp(row[j] - maximum) }
            for j in count..<T { row[j] = 0 }
            let inverse = 1 / VectorMath.sum(row, padded)
            for j in 0..<padded { row[j] *= inverse }
        }
    }

    /// Row t of the softmax backward, in place: dS = scale · P ⊙ (dP − Σ P ⊙ dP) over the causal
    /// entries 0...t, and 0 for t < j < keys (the query block's other columns).
    @inline(__always)
    static func softmaxBackwardRow(_ p: UnsafePointer<Float>, gradient dp: UnsafeMutablePointer<Float>, t: Int, keys: Int,
                                   scale: Float) {
        let dot = VectorMath.dot(p, dp, t + 1)
        for j in 0...t { dp[j] = scale * p[j] * (dp[j] - dot) }
        for j in (t + 1)..<keys { dp[j] = 0 }
    }

    /// Zeroes one head's dK and dV columns (rows of stride 3C), which backward accumulates over query blocks.
    @inline(__always)
    static func zeroKeyValueGradients(_ dk: UnsafeMutablePointer<Float>, _ dv: UnsafeMutablePointer<Float>,
                                      T: Int, C: Int, hs: Int) {
        for t in 0..<T {
            (dk + t * 3 * C).update(repeating: 0, count: hs)
            (dv + t * 3 * C).update(repeating: 0, count: hs)
        }
    }

    /// Writes dqkv [B,T,3C] (every element overwritten). `scratch` holds T*T floats.
    public static func backward(dqkv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>, probs: UnsafePointer<Float>,
                                B: Int, T: Int, C: Int, NH: Int, dropout: ProbabilityDropout? = nil) {
        let hs = C / NH
        let scale = 1 / Float(hs).squareRoot()
        let dp = scratch
        let blocks = rowBlocks(T)
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
                // dK and dV gather contributions from every later query block.
                Attention.zeroKeyValueGradients(dk, dv, T: T, C: C, hs: hs)
                for rows in blocks where !rows.isEmpty {
                    let r0 = rows.lowerBound, m = rows.count, keys = rows.upperBound
                    // dP = dY · Vᵀ ; dV += Pᵀ · dY (with dropout: P is the dropped copy and dP is masked back)
                    BLAS.gemm(transposeA: false, transposeB: true, m: m, n: keys, k: hs,
                              a: dy + r0 * C, lda: C, b: v, ldb: 3 * C, beta: 0, c: dp + r0 * T, ldc: T)
                    var weights = p
                    if let dropout {
                        dropProbabilities(p, into: dropout.scratch, rows: rows, keys: keys, b: b, h: h, NH: NH, T: T,
                                          dropout: dropout)
                        weights = UnsafePointer(dropout.scratch)
                        for t in rows {
                            let index = (((dropout.settings.firstSequence + b) * NH + h) * T + t) * T
                            Dropout.apply(dp + t * T, count: keys, probability: dropout.settings.probability,
                                          seed: dropout.seed, firstIndex: index)
                        }
                    }
                    BLAS.gemm(transposeA: true, transposeB: false, m: keys, n: hs, k: m,
                              a: weights + r0 * T, lda: T, b: dy + r0 * C, ldb: C, beta: 1, c: dv, ldc: 3 * C)
                    for t in rows { softmaxBackwardRow(p + t * T, gradient: dp + t * T, t: t, keys: keys, scale: scale) }
                    // dQ = dS · K ; dK += dSᵀ · Q
                    BLAS.gemm(transposeA: false, transposeB: false, m: m, n: hs, k: keys,
                              a: dp + r0 * T, lda: T, b: k, ldb: 3 * C, beta: 0, c: dq + r0 * 3 * C, ldc: 3 * C)
                    BLAS.gemm(transposeA: true, transposeB: false, m: keys, n: hs, k: m,
                              a: dp + r0 * T, lda: T, b: q + r0 * 3 * C, ldb: 3 * C, beta: 1, c: dk, ldc: 3 * C)
                }
            }
        }
    }
}

/// Plain-loop reference for `Attention` with the same contract; used by tests only.
public enum AttentionReference {
    public static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                               qkv: UnsafePointer<Float>, B: Int, T: Int, C: Int, NH: Int) {
        let hs = C / NH
        let scale = 1 / Float(hs).squareRoot()
        for b in 0..<B {
            for h in 0..<NH {
                for t in 0..<T {
                    let q = qkv + (b * T + t) * 3 * C + h * hs
                    let p = probs + ((b * NH + h) * T + t) * T
                    var maximum = -Float.greatestFiniteMagnitude
                    for j in 0...t {
                        let k = qkv + (b * T + j) * 3 * C + C + h * hs
                        var dot: Float = 0
                        for i in 0..<hs { dot += q[i] * k[i] }
                        p[j] = dot * scale
                        maximum = max(maximum, p[j])
                    }
                    var sum: Float = 0
                    for j in 0...t {
                        p[j] = Float(Foundation.exp(Double(p[j] - maximum)))
                        sum += p[j]
                    }
                    for j in 0..<T { p[j] = j <= t ? p[j] / sum : 0 }
                    let y = out + (b * T + t) * C + h * hs
                    for i in 0..<hs {
                        var acc: Float = 0
                        for j in 0...t { acc += p[j] * qkv[(b * T + j) * 3 * C + 2 * C + h * hs + i] }
                        y[i] = acc
                    }
                }
            }
        }
    }

    public static func backward(dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                qkv: UnsafePointer<Float>, probs: UnsafePointer<Float>,
                                B: Int, T: Int, C: Int, NH: Int) {
        let hs = C / NH
        let scale = 1 / Float(hs).squareRoot()
        dqkv.update(repeating: 0, count: B * T * 3 * C)
        var dp = [Float](repeating: 0, count: T)
        for b in 0..<B {
            for h in 0..<NH {
                for t in 0..<T {
                    let p = probs + ((b * NH + h) * T + t) * T
                    let dy = dout + (b * T + t) * C + h * hs
                    for j in 0...t {
                        let v = qkv + (b * T + j) * 3 * C + 2 * C + h * hs
                        let dv = dqkv + (b * T + j) * 3 * C + 2 * C + h * hs
                        var dot: Float = 0
                        for i in 0..<hs {
                            dot += dy[i] * v[i]
                            dv[i] += p[j] * dy[i]
                        }
                        dp[j] = dot
                    }
                    var weighted: Float = 0
                    for j in 0...t { weighted += p[j] * dp[j] }
                    let q = qkv + (b * T + t) * 3 * C + h * hs
                    let dq = dqkv + (b * T + t) * 3 * C + h * hs
                    for j in 0...t {
                        let ds = scale * p[j] * (dp[j] - weighted)
                        let k = qkv + (b * T + j) * 3 * C + C + h * hs
                        let dk = dqkv + (b * T + j) * 3 * C + C + h * hs
                        for i in 0..<hs {
                            dq[i] += ds * k[i]
                            dk[i] += ds * q[i]
                        }
                    }
                }
            }
        }
    }
}
