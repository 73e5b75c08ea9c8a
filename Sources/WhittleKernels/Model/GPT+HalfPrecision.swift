// The bf16/fp16 forward and backward: the same model as `GPT.forward`/`backward`, with every matmul
// on 16-bit operands (weights from a 16-bit copy of the fp32 master weights), every activation that
// backward reads kept in 16 bits, and LayerNorm, softmax, GELU, the loss and all accumulations in
// fp32. The residual stream stays fp32. Gradients are rounded to 16 bits where they enter a matmul;
// values that rounding flushes to zero are counted in `arena.flushedGradients`.

extension GPT {
    /// Forward over a 16-bit arena; `halfParameters` is the parameter vector rounded to `arena.precision`.
    static func forwardHalf(parameters p: UnsafePointer<Float>, halfParameters w16: UnsafePointer<UInt16>,
                            layout: ParameterLayout, arena a: ActivationArena, withTargets: Bool) -> Float? {
        let d = layout.dimensions
        let h = a.half!, format = a.precision
        let B = a.B, T = a.T, C = d.C, V = d.V, N = B * T
        Encoder.forward(out: a.residuals[0].pointer, tokens: a.tokens, wte: p + layout.wte, wpe: p + layout.wpe,
                        B: B, T: T, C: C)
        if let drop = a.dropout {
            Dropout.apply(a.residuals[0].pointer, count: N * C, probability: drop.probability,
                          seed: drop.seed(layer: d.L, site: 0), firstIndex: drop.firstSequence * T * C)
        }
        for l in 0..<d.L {
            blockForwardHalf(layer: l, parameters: p, halfParameters: w16, layout: layout, arena: a, writeOutput: true)
        }
        let staging = a.dLayerInput.pointer
        LayerNorm.forward(out: staging, mean: a.lnfMean.pointer, rstd: a.lnfRstd.pointer,
                          inp: a.residuals[d.L].pointer, weight: p + layout.lnfWeight,
                          bias: layout.lnfBias.map { p + $0 }, N: N, C: C, epsilon: d.epsilon)
        HalfConversion.round(staging, to: h.lnf.pointer, count: N * C, format: format)
        HalfMatmul.product(format, transposeA: false, transposeB: true, m: N, n: V, k: C, a: h.lnf.pointer, lda: C,
                           b: w16 + layout.wte, ldb: C, c: a.logits.pointer, ldc: V, accumulate: false, scratch: h.matmul)
        guard withTargets else { return nil }
        CrossEntropy.forward(losses: a.losses.pointer, probs: a.probsOut.pointer, logits: a.logits.pointer,
                             targets: a.targets, N: N, V: V)
        var total: Double = 0
        for i in 0..<N { total += Double(a.losses[i]) }
        return Float(total / Double(N))
    }

    /// Block `l` forward over 16-bit storage (see `blockForward`). `dLayerInput` stages LayerNorm outputs.
    static func blockForwardHalf(layer l: Int, parameters p: UnsafePointer<Float>, halfParameters w16: UnsafePointer<UInt16>,
                                 layout: ParameterLayout, arena a: ActivationArena, writeOutput: Bool) {
        let d = layout.dimensions
        let h = a.half!, format = a.precision
        let B = a.B, T = a.T, C = d.C, N = B * T
        let drop = a.dropout
        let w = layout.blocks[l]
        let x = a.residuals[l].pointer, mid = a.residualMid[l].pointer, staging = a.dLayerInput.pointer
        LayerNorm.forward(out: staging, mean: a.ln1Mean[l].pointer, rstd: a.ln1Rstd[l].pointer, inp: x,
                          weight: p + w.ln1Weight, bias: w.ln1Bias.map { p + $0 }, N: N, C: C, epsilon: d.epsilon)
        HalfConversion.round(staging, to: h.ln1[l].pointer, count: N * C, format: format)
        HalfMatmul.roundedProduct(format, transposeA: false, transposeB: false, m: N, n: 3 * C, k: C,
                                  a: h.ln1[l].pointer, lda: C, b: w16 + w.attnWeight, ldb: 3 * C,
                                  c: h.qkv[l].pointer, ldc: 3 * C, bias: w.attnBias.map { p + $0 }, scratch: h.matmul)
        HalfAttention.forward(out: h.attentionOut[l].pointer, probs: h.probs[l].pointer, qkv: h.qkv[l].pointer,
                              scores: a.dScores.pointer, B: B, T: T, C: C, NH: d.NH, format: format, matmul: h.matmul,
                              dropout: drop.map { ($0, $0.seed(layer: l, site: 1), a.droppedScores.pointer) },
                              dropped: h.droppedProbabilities.pointer)
        residualProduct(out: mid, residual: x, inp: h.attentionOut[l].pointer, weight: w16 + w.projWeight,
                        bias: w.projBias.map { p + $0 }, N: N, C: C, OC: C, arena: a, layer: l, site: 2)
        HalfConversion.round(mid, to: h.residualMid[l].pointer, count: N * C, format: format)
        LayerNorm.forward(out: staging, mean: a.ln2Mean[l].pointer, rstd: a.ln2Rstd[l].pointer, inp: mid,
                          weight: p + w.ln2Weight, bias: w.ln2Bias.map { p + $0 }, N: N, C: C, epsilon: d.epsilon)
        HalfConversion.round(staging, to: h.ln2[l].pointer, count: N * C, format: format)
        // c_fc in fp32 (into the dFC scratch), then GELU and its derivative rounded to 16 bits.
        let fc = a.dFC.pointer
        if let bias = w.fcBias.map({ p + $0 }) {
            for row in 0..<N { (fc + row * 4 * C).update(from: bias, count: 4 * C) }
        }
        HalfMatmul.product(format, transposeA: false, transposeB: false, m: N, n: 4 * C, k: C, a: h.ln2[l].pointer,
                           lda: C, b: w16 + w.fcWeight, ldb: 4 * C, c: fc, ldc: 4 * C, accumulate: w.fcBias != nil,
                           scratch: h.matmul)
        GELU.forwardRounded(gelu: h.fcGelu[l].pointer, derivative: h.fcDerivative[l].pointer, inputScratch: fc,
                            count: N * 4 * C, format: format)
        guard writeOutput else { return }
        residualProduct(out: a.residuals[l + 1].pointer, residual: mid, inp: h.fcGelu[l].pointer,
                        weight: w16 + w.fcProjWeight, bias: w.fcProjBias.map { p + $0 }, N: N, C: 4 * C, OC: C,
                        arena: a, layer: l, site: 3)
    }

    /// out = residual + dropout(inp · W + b) in fp32, with 16-bit inp and W.
    static func residualProduct(out: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>,
                                inp: UnsafePointer<UInt16>, weight: UnsafePointer<UInt16>, bias: UnsafePointer<Float>?,
                                N: Int, C: Int, OC: Int, arena a: ActivationArena, layer: Int, site: Int) {
        let format = a.precision, matmul = a.half!.matmul
        guard let drop = a.dropout else {
            if let bias {
                for row in 0..<N {
                    let o = out + row * OC, r = residual + row * OC
                    for i in 0..<OC { o[i] = r[i] + bias[i] }
                }
            } else {
                out.update(from: residual, count: N * OC)
            }
            HalfMatmul.product(format, transposeA: false, transposeB: false, m: N, n: OC, k: C, a: inp, lda: C,
                               b: weight, ldb: OC, c: out, ldc: OC, accumulate: true, scratch: matmul)
            return
        }
        let branch = a.projected.pointer
        if let bias {
            for row in 0..<N { (branch + row * OC).update(from: bias, count: OC) }
        }
        HalfMatmul.product(format, transposeA: false, transposeB: false, m: N, n: OC, k: C, a: inp, lda: C,
                           b: weight, ldb: OC, c: branch, ldc: OC, accumulate: bias != nil, scratch: matmul)
        Dropout.apply(branch, count: N * OC, probability: drop.probability, seed: drop.seed(layer: layer, site: site),
                      firstIndex: drop.firstSequence * a.T * OC)
        for i in 0..<(N * OC) { out[i] = residual[i] + branch[i] }
    }

    /// Backward over a 16-bit arena (see `backward`); requires a preceding `forwardHalf` on it.
    static func backwardHalf(parameters p: UnsafePointer<Float>, halfParameters w16: UnsafePointer<UInt16>,
                             gradients g: UnsafeMutablePointer<Float>, layout: ParameterLayout, arena a: ActivationArena,
                             lossScale: Float) {
        let d = layout.dimensions
        let h = a.half!, format = a.precision, matmul = h.matmul
        let B = a.B, T = a.T, C = d.C, V = d.V, N = B * T
        let dres = a.dResidual.pointer, dln = a.dLayerInput.pointer
        let g16 = h.gradient.pointer
        let drop = a.dropout
        var flushed = 0
        /// dres (or its dropout-masked copy) rounded into the 16-bit gradient buffer; the fp32 form is returned for bias sums.
        func branchGradient(layer l: Int, site: Int) -> UnsafePointer<Float> {
            var branch = UnsafePointer(dres)
            if let drop {
                a.projected.pointer.update(from: dres, count: N * C)
                Dropout.apply(a.projected.pointer, count: N * C, probability: drop.probability,
                              seed: drop.seed(layer: l, site: site), firstIndex: drop.firstSequence * T * C)
                branch = UnsafePointer(a.projected.pointer)
            }
            flushed += HalfConversion.round(branch, to: g16, count: N * C, format: format)
            return branch
        }
        // Loss head: dlogits overwrites the logits buffer, then enters both products in 16 bits.
        let dlogits = a.logits.pointer
        CrossEntropy.backward(dlogits: dlogits, probs: a.probsOut.pointer, targets: a.targets, N: N, V: V,
                              scale: lossScale / Float(N))
        flushed += HalfConversion.round(dlogits, to: g16, count: N * V, format: format)
        HalfMatmul.product(format, transposeA: false, transposeB: false, m: N, n: C, k: V, a: g16, lda: V,
                           b: w16 + layout.wte, ldb: C, c: dln, ldc: C, accumulate: false, scratch: matmul)
        HalfMatmul.product(format, transposeA: true, transposeB: false, m: V, n: C, k: N, a: g16, lda: V,
                           b: h.lnf.pointer, ldb: C, c: g + layout.wte, ldc: C, accumulate: true, scratch: matmul)
        a.dResidual.zero()
        LayerNorm.backward(dinp: dres, dweight: g + layout.lnfWeight, dbias: layout.lnfBias.map { g + $0 },
                           dout: dln, inp: a.residuals[d.L].pointer, weight: p + layout.lnfWeight,
                           mean: a.lnfMean.pointer, rstd: a.lnfRstd.pointer, N: N, C: C)
        for l in stride(from: d.L - 1, through: 0, by: -1) {
            if a.isCheckpointed(l) {
                blockForwardHalf(layer: l, parameters: p, halfParameters: w16, layout: layout, arena: a, writeOutput: false)
            }
            let w = layout.blocks[l]
            // MLP: x_{l+1} = mid + c_proj(gelu(c_fc(ln_2(mid))))
            let dfc = a.dFC.pointer
            let mlpBranch = branchGradient(layer: l, site: 3)
            HalfMatmul.product(format, transposeA: false, transposeB: true, m: N, n: 4 * C, k: C, a: g16, lda: C,
                               b: w16 + w.fcProjWeight, ldb: C, c: dfc, ldc: 4 * C, accumulate: false, scratch: matmul)
            HalfMatmul.product(format, transposeA: true, transposeB: false, m: 4 * C, n: C, k: N,
                               a: h.fcGelu[l].pointer, lda: 4 * C, b: g16, ldb: C, c: g + w.fcProjWeight, ldc: C,
                               accumulate: true, scratch: matmul)
            if let bias = w.fcProjBias { Linear.sumRows(into: g + bias, mlpBranch, N: N, OC: C) }
            flushed += GELU.backwardRounded(dfc, derivative: h.fcDerivative[l].pointer, into: g16, count: N * 4 * C,
                                            format: format)
            if let bias = w.fcBias { Linear.sumRows(into: g + bias, dfc, N: N, OC: 4 * C) }
            HalfMatmul.product(format, transposeA: false, transposeB: true, m: N, n: C, k: 4 * C, a: g16, lda: 4 * C,
                               b: w16 + w.fcWeight, ldb: 4 * C, c: dln, ldc: C, accumulate: false, scratch: matmul)
            HalfMatmul.product(format, transposeA: true, transposeB: false, m: C, n: 4 * C, k: N,
                               a: h.ln2[l].pointer, lda: C, b: g16, ldb: 4 * C, c: g + w.fcWeight, ldc: 4 * C,
                               accumulate: true, scratch: matmul)
            let midInput = a.dAttentionOut.pointer   // LayerNorm 2's input, widened (dAttentionOut is free here)
            HalfConversion.widen(h.residualMid[l].pointer, to: midInput, count: N * C, format: format)
            LayerNorm.backward(dinp: dres, dweight: g + w.ln2Weight, dbias: w.ln2Bias.map { g + $0 }, dout: dln,
                               inp: midInput, weight: p + w.ln2Weight,
                               mean: a.ln2Mean[l].pointer, rstd: a.ln2Rstd[l].pointer, N: N, C: C)
            // Attention: mid = x_l + c_proj(attn(c_attn(ln_1(x_l))))
            let datt = a.dAttentionOut.pointer
            let attentionBranch = branchGradient(layer: l, site: 2)
            HalfMatmul.product(format, transposeA: false, transposeB: true, m: N, n: C, k: C, a: g16, lda: C,
                               b: w16 + w.projWeight, ldb: C, c: datt, ldc: C, accumulate: false, scratch: matmul)
            HalfMatmul.product(format, transposeA: true, transposeB: false, m: C, n: C, k: N,
                               a: h.attentionOut[l].pointer, lda: C, b: g16, ldb: C, c: g + w.projWeight, ldc: C,
                               accumulate: true, scratch: matmul)
            if let bias = w.projBias { Linear.sumRows(into: g + bias, attentionBranch, N: N, OC: C) }
            // The attention output's gradient, in 16 bits, sits after the [N, 3C] that dqkv will take.
            let datt16 = g16 + N * 3 * C
            flushed += HalfConversion.round(datt, to: datt16, count: N * C, format: format)
            flushed += HalfAttention.backward(dqkv: a.dQKV.pointer, dout: datt16, qkv: h.qkv[l].pointer,
                                              probs: h.probs[l].pointer, scores: a.dScores.pointer,
                                              scoresGradient: h.scoresGradient.pointer,
                                              probabilityRow: h.probabilityRow.pointer, B: B, T: T, C: C, NH: d.NH,
                                              format: format, matmul: matmul,
                                              dropout: drop.map { ($0, $0.seed(layer: l, site: 1), a.droppedScores.pointer) },
                                              dropped: h.droppedProbabilities.pointer)
            if let bias = w.attnBias { Linear.sumRows(into: g + bias, a.dQKV.pointer, N: N, OC: 3 * C) }
            flushed += HalfConversion.round(a.dQKV.pointer, to: g16, count: N * 3 * C, format: format)
            HalfMatmul.product(format, transposeA: false, transposeB: true, m: N, n: C, k: 3 * C, a: g16, lda: 3 * C,
                               b: w16 + w.attnWeight, ldb: 3 * C, c: dln, ldc: C, accumulate: false, scratch: matmul)
            HalfMatmul.product(format, transposeA: true, transposeB: false, m: C, n: 3 * C, k: N,
                               a: h.ln1[l].pointer, lda: C, b: g16, ldb: 3 * C, c: g + w.attnWeight, ldc: 3 * C,
                               accumulate: true, scratch: matmul)
            LayerNorm.backward(dinp: dres, dweight: g + w.ln1Weight, dbias: w.ln1Bias.map { g + $0 }, dout: dln,
                               inp: a.residuals[l].pointer, weight: p + w.ln1Weight,
                               mean: a.ln1Mean[l].pointer, rstd: a.ln1Rstd[l].pointer, N: N, C: C)
        }
        embeddingBackward(gradients: g, layout: layout, arena: a)
        a.flushedGradients += flushed
    }
}
