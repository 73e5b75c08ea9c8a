// The forward pass's layers, each choosing its kernel from what it is given: fp32 or 16-bit
// activations (`ActivationBuffer`), and the weight operand's format. This is the only place the
// passes branch on precision; `GPT.forward`, `blockForward` and `backward` read the same for all.

import CKernels

extension GPT {
    /// x_0 = wte[token] + wpe[firstPosition + t] (wte rows dequantized when stored in another format).
    static func embed(weights w: ModelWeights, arena a: ActivationArena, firstPosition: Int) {
        let C = w.dimensions.C, out = a.residuals[0].pointer
        let wpe = w.positionEmbedding + firstPosition * C
        let table = w.tokenEmbedding
        if table.format == .f32 {
            return Encoder.forward(out: out, tokens: a.tokens, wte: table.floats, wpe: wpe, B: a.B, T: a.T, C: C)
        }
        for b in 0..<a.B {
            for t in 0..<a.T {
                let o = out + (b * a.T + t) * C
                table.format.dequantizeRow(table.base + Int(a.tokens[b * a.T + t]) * table.rowBytes, into: o, count: C)
                let p = wpe + t * C
                for i in 0..<C { o[i] += p[i] }
            }
        }
    }

    /// LayerNorm of `inp` ([B·T, C], fp32) into `out`; a 16-bit output is normalised in fp32
    /// (in the dLayerInput staging buffer) and rounded.
    /// With `threads` > 1 (an fp32 prefill) the rows are split over the pool; each row is normalised
    /// exactly as on one thread.
    static func norm(out: ActivationBuffer, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                     inp: UnsafePointer<Float>, weights: NormWeights, arena a: ActivationArena, threads: Int = 1) {
        let d = a.dimensions, N = a.B * a.T, C = d.C
        switch out {
        case .f32(let y):
            Parallel.onPool(min(threads, N)) { part in
                let rows = Parallel.range(part, of: min(threads, N), total: N), r = rows.lowerBound
                LayerNorm.forward(out: y + r * C, mean: mean + r, rstd: rstd + r, inp: inp + r * C, weight: weights.gain,
                                  bias: weights.bias, N: rows.count, C: C, epsilon: d.epsilon)
            }
        case .half(let y, let format):
            let staging = a.dLayerInput.pointer
            LayerNorm.forward(out: staging, mean: mean, rstd: rstd, inp: inp, weight: weights.gain, bias: weights.bias,
                              N: N, C: d.C, epsilon: d.epsilon)
            HalfConversion.round(staging, to: y, count: N * d.C, format: format)
        }
    }

    /// out = inp · W + bias over the arena's B·T rows, or out += inp · W (+ bias) when `accumulate`.
    /// fp32 activations take any weight format; 16-bit activations take the run's 16-bit weight copy.
    static func linear(_ path: KernelPath, out: ActivationBuffer, inp: ActivationBuffer, weight w: WeightOperand,
                       bias: UnsafePointer<Float>?, accumulate: Bool = false, arena a: ActivationArena) {
        let N = a.B * a.T, K = w.inputs, M = w.outputs
        let transposeB = w.orientation == .outputMajor
        switch (out, inp) {
        case (.f32(let y), .f32(let x)):
            MatrixProduct.forward(path, out: y, inp: x, weight: w, bias: bias, rows: N, accumulate: accumulate,
                                  scratch: a.quantizedInput)
        case (.f32(let y), .half(let x, let format)):
            precondition(w.format.halfPrecision == format, "16-bit activations need the \(format) weight copy")
            if !accumulate, bias != nil { MatrixProduct.fillRows(y, bias, N: N, M: M) }
            HalfMatmul.product(format, transposeA: false, transposeB: transposeB, m: N, n: M, k: K, a: x, lda: K,
                               b: w.halves, ldb: w.leadingDimension, c: y, ldc: M, accumulate: accumulate || bias != nil,
                               scratch: a.half!.matmul)
            if accumulate, let bias { Linear.addBias(y, bias, N: N, OC: M) }
        case (.half(let y, let format), .half(let x, _)):
            precondition(w.format.halfPrecision == format && !accumulate, "a 16-bit output is a fresh rounded product")
            HalfMatmul.roundedProduct(format, transposeA: false, transposeB: transposeB, m: N, n: M, k: K, a: x, lda: K,
                                      b: w.halves, ldb: w.leadingDimension, c: y, ldc: M, bias: bias,
                                      scratch: a.half!.matmul)
        case (.half, .f32):
            preconditionFailure("fp32 activations produce fp32 outputs")
        }
    }

    /// out = residual + dropout(inp · W + b) in fp32: one residual branch's projection. Without dropout
    /// the residual and bias are written first and the product added onto them in the same GEMM.
    static func residualLinear(_ path: KernelPath, out: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>,
                               inp: ActivationBuffer, weights lw: LinearWeights, arena a: ActivationArena,
                               layer: Int, site: Int, threads: Int = 1) {
        let N = a.B * a.T, M = lw.weight.outputs
        if let drop = a.dropout {
            let branch = a.projected.pointer
            linear(path, out: .f32(branch), inp: inp, weight: lw.weight, bias: lw.bias, arena: a)
            drop.apply(branch, count: N * M, width: M, T: a.T, layer: layer, site: site)
            for i in 0..<(N * M) { out[i] = residual[i] + branch[i] }
            return
        }
        Parallel.onPool(min(threads, N)) { part in
            let rows = Parallel.range(part, of: min(threads, N), total: N)
            if let bias = lw.bias {
                for row in rows {
                    let o = out + row * M, r = residual + row * M
                    for i in 0..<M { o[i] = r[i] + bias[i] }
                }
            } else {
                (out + rows.lowerBound * M).update(from: residual + rows.lowerBound * M, count: rows.count * M)
            }
        }
        linear(path, out: .f32(out), inp: inp, weight: lw.weight, bias: nil, accumulate: true, arena: a)
    }

    /// A 16-bit arena keeps LayerNorm 2's input (the fp32 residual mid-point, a shared scratch there)
    /// rounded for backward; an fp32 arena keeps the mid-point itself.
    @inline(__always)
    static func keepNormInput(_ mid: UnsafePointer<Float>, layer l: Int, arena a: ActivationArena) {
        guard let half = a.half else { return }
        HalfConversion.round(mid, to: half.residualMid[l].pointer, count: a.B * a.T * a.dimensions.C, format: a.precision)
    }

    /// Causal self-attention of block `l` from its qkv activation into its attention output.
    /// With a cache holding a prefix, each new query attends over the cache (the decoder's step).
    /// An inference prefill into an empty cache (`prefill`: its thread count) runs `ck_attention_prefill`
    /// on the pool (split by head and query block, no probabilities kept for backward).
    static func attention(layer l: Int, arena a: ActivationArena, path: KernelPath, cache: KVCache?, prefill: Int? = nil) {
        let d = a.dimensions, B = a.B, T = a.T
        let heads = d.layers[l].heads, A = d.attentionWidth(l)
        let drop = a.dropout.map { ($0, $0.seed(layer: l, site: 1), a.droppedScores.pointer) }
        if let cache, cache.length > 0 {
            cache.store(layer: l, qkv: a.qkv[l].pointer, rows: T)
            cache.attend(layer: l, qkv: a.qkv[l].pointer, out: a.attentionOut[l].pointer, rows: T)
            return
        }
        if let threads = prefill, let cache, B == 1, a.half == nil, ck_attention_supported(d.headWidth) != 0,
           ck_attention_prefill(T, A, heads, a.qkv[l].pointer, a.attentionOut[l].pointer, Int32(threads)) != 0 {
            cache.store(layer: l, qkv: a.qkv[l].pointer, rows: T)
            return
        }
        if let half = a.half {
            HalfAttention.forward(out: half.attentionOut[l].pointer, probs: half.probs[l].pointer, qkv: half.qkv[l].pointer,
                                  scores: a.dScores.pointer, B: B, T: T, C: A, NH: heads, format: a.precision,
                                  matmul: half.matmul, dropout: drop, dropped: half.droppedProbabilities.pointer)
            return
        }
        switch path {
        case .fast:
            Attention.forward(out: a.attentionOut[l].pointer, probs: a.probs[l].pointer, qkv: a.qkv[l].pointer,
                              B: B, T: T, C: A, NH: heads, dropout: drop)
        case .reference:
            AttentionReference.forward(out: a.attentionOut[l].pointer, probs: a.probs[l].pointer, qkv: a.qkv[l].pointer,
                                       B: B, T: T, C: A, NH: heads)
        }
        cache?.store(layer: l, qkv: a.qkv[l].pointer, rows: T)
    }

    /// out = GELU(input) and its derivative for backward: fp32 keeps gelu' over the input itself
    /// (`derivative` is that buffer); 16 bits rounds both.
    static func gelu(input: UnsafeMutablePointer<Float>, out: ActivationBuffer, derivative: ActivationBuffer, count: Int) {
        switch (out, derivative) {
        case (.f32(let y), .f32(let dy)):
            precondition(dy == input, "fp32 keeps gelu' over c_fc's output")
            GELU.forwardSavingDerivative(out: y, inputThenDerivative: input, count: count)
        case (.half(let y, let format), .half(let dy, _)):
            GELU.forwardRounded(gelu: y, derivative: dy, inputScratch: input, count: count, format: format)
        default:
            preconditionFailure("GELU's output and derivative share a precision")
        }
    }
}
