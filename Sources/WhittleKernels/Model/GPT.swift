// The GPT-2 forward and backward passes over a parameter arena and an activation arena.
// Reads top to bottom like the architecture: embed, L pre-LN blocks, final LN, tied LM head.

/// Which implementation of the matmul-heavy layers to run.
public enum KernelPath: Sendable {
    /// BLAS.gemm: ck_sgemm or OpenBLAS sgemm (the default).
    case fast
    /// Plain loops, for tests.
    case reference
}

/// GPT-2 forward/backward (Radford et al. 2019) over explicit buffers.
public enum GPT {
    /// Runs the model on `arena.tokens` ([B,T], T ≤ maxT). With targets, computes per-token losses
    /// into `arena.losses` and returns their mean; without, leaves logits in `arena.logits` and returns nil.
    /// A bf16/fp16 arena runs the mixed-precision pass (`GPT+HalfPrecision.swift`) and needs
    /// `halfParameters`, the parameters rounded to the arena's precision (`HalfConversion.round`).
    @discardableResult
    public static func forward(parameters: UnsafePointer<Float>, layout: ParameterLayout,
                               arena a: ActivationArena, withTargets: Bool, path: KernelPath = .fast,
                               halfParameters: UnsafePointer<UInt16>? = nil) -> Float? {
        if a.half != nil {
            precondition(path == .fast, "16-bit arenas run the fast path only")
            guard let halfParameters else { preconditionFailure("a 16-bit arena needs halfParameters") }
            return forwardHalf(parameters: parameters, halfParameters: halfParameters, layout: layout, arena: a,
                               withTargets: withTargets)
        }
        let d = layout.dimensions
        let B = a.B, T = a.T, C = d.C, V = d.V, N = B * T
        let p = parameters
        precondition(path == .fast || a.dropout == nil, "dropout runs on the fast path only")
        Encoder.forward(out: a.residuals[0].pointer, tokens: a.tokens, wte: p + layout.wte, wpe: p + layout.wpe,
                        B: B, T: T, C: C)
        let drop = a.dropout
        if let drop {
            Dropout.apply(a.residuals[0].pointer, count: N * C, probability: drop.probability,
                          seed: drop.seed(layer: d.L, site: 0), firstIndex: drop.firstSequence * T * C)
        }
        for l in 0..<d.L {
            blockForward(layer: l, parameters: p, layout: layout, arena: a, path: path, writeOutput: true)
        }
        LayerNorm.forward(out: a.lnf.pointer, mean: a.lnfMean.pointer, rstd: a.lnfRstd.pointer,
                          inp: a.residuals[d.L].pointer, weight: p + layout.lnfWeight,
                          bias: layout.lnfBias.map { p + $0 }, N: N, C: C, epsilon: d.epsilon)
        // Tied LM head: logits = lnf · wteᵀ.
        BLAS.gemm(transposeA: false, transposeB: true, m: N, n: V, k: C, a: a.lnf.pointer, lda: C,
                  b: p + layout.wte, ldb: C, beta: 0, c: a.logits.pointer, ldc: V)
        guard withTargets else { return nil }
        CrossEntropy.forward(losses: a.losses.pointer, probs: a.probsOut.pointer, logits: a.logits.pointer,
                             targets: a.targets, N: N, V: V)
        var total: Double = 0
        for i in 0..<N { total += Double(a.losses[i]) }
        return Float(total / Double(N))
    }

    /// Block `l` forward from `residuals[l]`: fills the block's activations and, when `writeOutput`,
    /// `residuals[l + 1]`. Backward calls it with `writeOutput: false` to recompute a checkpointed block
    /// (dropout masks are regenerated from the same seeds, so the recomputation is exact).
    static func blockForward(layer l: Int, parameters p: UnsafePointer<Float>, layout: ParameterLayout,
                             arena a: ActivationArena, path: KernelPath, writeOutput: Bool) {
        let d = layout.dimensions
        let B = a.B, T = a.T, C = d.C, NH = d.NH, N = B * T
        let drop = a.dropout
        let w = layout.blocks[l]
        let x = a.residuals[l].pointer
        LayerNorm.forward(out: a.ln1[l].pointer, mean: a.ln1Mean[l].pointer, rstd: a.ln1Rstd[l].pointer,
                          inp: x, weight: p + w.ln1Weight, bias: w.ln1Bias.map { p + $0 }, N: N, C: C,
                          epsilon: d.epsilon)
        linear(path, out: a.qkv[l].pointer, inp: a.ln1[l].pointer, weight: p + w.attnWeight,
               bias: w.attnBias.map { p + $0 }, N: N, C: C, OC: 3 * C)
        switch path {
        case .fast:
            Attention.forward(out: a.attentionOut[l].pointer, probs: a.probs[l].pointer,
                              qkv: a.qkv[l].pointer, B: B, T: T, C: C, NH: NH,
                              dropout: drop.map { ($0, $0.seed(layer: l, site: 1), a.droppedScores.pointer) })
        case .reference:
            AttentionReference.forward(out: a.attentionOut[l].pointer, probs: a.probs[l].pointer,
                                       qkv: a.qkv[l].pointer, B: B, T: T, C: C, NH: NH)
        }
        residualLinear(path, out: a.residualMid[l].pointer, residual: x, inp: a.attentionOut[l].pointer,
                       weight: p + w.projWeight, bias: w.projBias.map { p + $0 }, N: N, C: C, OC: C,
                       dropout: drop.map { ($0, $0.seed(layer: l, site: 2), a.projected.pointer) }, T: T)
        LayerNorm.forward(out: a.ln2[l].pointer, mean: a.ln2Mean[l].pointer, rstd: a.ln2Rstd[l].pointer,
                          inp: a.residualMid[l].pointer, weight: p + w.ln2Weight, bias: w.ln2Bias.map { p + $0 },
                          N: N, C: C, epsilon: d.epsilon)
        linear(path, out: a.fc[l].pointer, inp: a.ln2[l].pointer, weight: p + w.fcWeight,
               bias: w.fcBias.map { p + $0 }, N: N, C: C, OC: 4 * C)
        // fc keeps gelu'(fc) from here on (backward needs nothing else from it).
        GELU.forwardSavingDerivative(out: a.fcGelu[l].pointer, inputThenDerivative: a.fc[l].pointer, count: N * 4 * C)
        guard writeOutput else { return }
        residualLinear(path, out: a.residuals[l + 1].pointer, residual: a.residualMid[l].pointer,
                       inp: a.fcGelu[l].pointer, weight: p + w.fcProjWeight, bias: w.fcProjBias.map { p + $0 },
                       N: N, C: 4 * C, OC: C, dropout: drop.map { ($0, $0.seed(layer: l, site: 3), a.projected.pointer) },
                       T: T)
    }

    /// Accumulates d(lossScale · mean loss)/dθ into `gradients` (same layout as the parameters).
    /// Requires a preceding `forward(withTargets: true)` on the same arena.
    public static func backward(parameters: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>,
                                layout: ParameterLayout, arena a: ActivationArena, lossScale: Float = 1,
                                path: KernelPath = .fast, halfParameters: UnsafePointer<UInt16>? = nil) {
        if a.half != nil {
            precondition(path == .fast, "16-bit arenas run the fast path only")
            guard let halfParameters else { preconditionFailure("a 16-bit arena needs halfParameters") }
            return backwardHalf(parameters: parameters, halfParameters: halfParameters, gradients: g, layout: layout,
                                arena: a, lossScale: lossScale)
        }
        let d = layout.dimensions
        let B = a.B, T = a.T, C = d.C, NH = d.NH, V = d.V, N = B * T
        let p = parameters
        let dres = a.dResidual.pointer, dln = a.dLayerInput.pointer
        let drop = a.dropout
        /// The gradient reaching a residual branch's output: dres itself, or a masked copy under dropout.
        func branchGradient(layer l: Int, site: Int) -> UnsafePointer<Float> {
            guard let drop else { return UnsafePointer(dres) }
            a.projected.pointer.update(from: dres, count: N * C)
            Dropout.apply(a.projected.pointer, count: N * C, probability: drop.probability,
                          seed: drop.seed(layer: l, site: site), firstIndex: drop.firstSequence * T * C)
            return UnsafePointer(a.projected.pointer)
        }
        // Loss head: dlogits overwrites the logits buffer.
        let dlogits = a.logits.pointer
        CrossEntropy.backward(dlogits: dlogits, probs: a.probsOut.pointer, targets: a.targets, N: N, V: V,
                              scale: lossScale / Float(N))
        BLAS.gemm(transposeA: false, transposeB: false, m: N, n: C, k: V, a: dlogits, lda: V,
                  b: p + layout.wte, ldb: C, beta: 0, c: dln, ldc: C)
        BLAS.gemm(transposeA: true, transposeB: false, m: V, n: C, k: N, a: dlogits, lda: V,
                  b: a.lnf.pointer, ldb: C, beta: 1, c: g + layout.wte, ldc: C)
        a.dResidual.zero()
        LayerNorm.backward(dinp: dres, dweight: g + layout.lnfWeight, dbias: layout.lnfBias.map { g + $0 },
                           dout: dln, inp: a.residuals[d.L].pointer, weight: p + layout.lnfWeight,
                           mean: a.lnfMean.pointer, rstd: a.lnfRstd.pointer, N: N, C: C)
        for l in stride(from: d.L - 1, through: 0, by: -1) {
            if a.isCheckpointed(l) {
                blockForward(layer: l, parameters: p, layout: layout, arena: a, path: path, writeOutput: false)
            }
            let w = layout.blocks[l]
            // MLP: x_{l+1} = mid + c_proj(gelu(c_fc(ln_2(mid))))
            let dfc = a.dFC.pointer
            linearBackward(path, dinp: dfc, dweight: g + w.fcProjWeight, dbias: w.fcProjBias.map { g + $0 },
                           dout: branchGradient(layer: l, site: 3), inp: a.fcGelu[l].pointer,
                           weight: p + w.fcProjWeight, N: N, C: 4 * C, OC: C)
            GELU.backwardFromDerivative(dfc, derivative: a.fc[l].pointer, count: N * 4 * C)
            linearBackward(path, dinp: dln, dweight: g + w.fcWeight, dbias: w.fcBias.map { g + $0 },
                           dout: dfc, inp: a.ln2[l].pointer, weight: p + w.fcWeight, N: N, C: C, OC: 4 * C)
            LayerNorm.backward(dinp: dres, dweight: g + w.ln2Weight, dbias: w.ln2Bias.map { g + $0 }, dout: dln,
                               inp: a.residualMid[l].pointer, weight: p + w.ln2Weight,
                               mean: a.ln2Mean[l].pointer, rstd: a.ln2Rstd[l].pointer, N: N, C: C)
            // Attention: mid = x_l + c_proj(attn(c_attn(ln_1(x_l))))
            let datt = a.dAttentionOut.pointer
            linearBackward(path, dinp: datt, dweight: g + w.projWeight, dbias: w.projBias.map { g + $0 },
                           dout: branchGradient(layer: l, site: 2), inp: a.attentionOut[l].pointer,
                           weight: p + w.projWeight, N: N, C: C, OC: C)
            switch path {
            case .fast:
                Attention.backward(dqkv: a.dQKV.pointer, scratch: a.dScores.pointer, dout: datt,
                                   qkv: a.qkv[l].pointer, probs: a.probs[l].pointer, B: B, T: T, C: C, NH: NH,
                                   dropout: drop.map { ($0, $0.seed(layer: l, site: 1), a.droppedScores.pointer) })
            case .reference:
                AttentionReference.backward(dqkv: a.dQKV.pointer, dout: datt, qkv: a.qkv[l].pointer,
                                            probs: a.probs[l].pointer, B: B, T: T, C: C, NH: NH)
            }
            linearBackward(path, dinp: dln, dweight: g + w.attnWeight, dbias: w.attnBias.map { g + $0 },
                           dout: a.dQKV.pointer, inp: a.ln1[l].pointer, weight: p + w.attnWeight,
                           N: N, C: C, OC: 3 * C)
            LayerNorm.backward(dinp: dres, dweight: g + w.ln1Weight, dbias: w.ln1Bias.map { g + $0 }, dout: dln,
                               inp: a.residuals[l].pointer, weight: p + w.ln1Weight,
                               mean: a.ln1Mean[l].pointer, rstd: a.ln1Rstd[l].pointer, N: N, C: C)
        }
        embeddingBackward(gradients: g, layout: layout, arena: a)
    }

    /// The embeddings' gradients from `dResidual` (the gradient reaching x_0), through the embedding
    /// dropout mask when dropout is on. Shared by the fp32 and 16-bit backward passes.
    static func embeddingBackward(gradients g: UnsafeMutablePointer<Float>, layout: ParameterLayout, arena a: ActivationArena) {
        let B = a.B, T = a.T, C = layout.dimensions.C
        let dres = a.dResidual.pointer
        if let drop = a.dropout {
            Dropout.apply(dres, count: B * T * C, probability: drop.probability,
                          seed: drop.seed(layer: layout.dimensions.L, site: 0), firstIndex: drop.firstSequence * T * C)
        }
        Encoder.backward(dwte: g + layout.wte, dwpe: g + layout.wpe, dout: dres, tokens: a.tokens, B: B, T: T, C: C)
    }

    // MARK: - Layer dispatch

    @inline(__always)
    static func linear(_ path: KernelPath, out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                       weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int) {
        switch path {
        case .fast: Linear.forward(out: out, inp: inp, weight: weight, bias: bias, N: N, C: C, OC: OC)
        case .reference: LinearReference.forward(out: out, inp: inp, weight: weight, bias: bias, N: N, C: C, OC: OC)
        }
    }

    /// out = residual + dropout(inp · W + b); `dropout` carries the settings, the site's seed and an [N, OC] scratch.
    @inline(__always)
    static func residualLinear(_ path: KernelPath, out: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>,
                               inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               N: Int, C: Int, OC: Int,
                               dropout: (settings: DropoutSettings, seed: UInt64, scratch: UnsafeMutablePointer<Float>)? = nil,
                               T: Int = 1) {
        if let dropout {
            linear(path, out: dropout.scratch, inp: inp, weight: weight, bias: bias, N: N, C: C, OC: OC)
            Dropout.apply(dropout.scratch, count: N * OC, probability: dropout.settings.probability, seed: dropout.seed,
                          firstIndex: dropout.settings.firstSequence * T * OC)
            for i in 0..<(N * OC) { out[i] = residual[i] + dropout.scratch[i] }
            return
        }
        switch path {
        case .fast:
            // out = residual + bias in one pass, then the product is added onto it.
            if let bias {
                for row in 0..<N {
                    let o = out + row * OC, r = residual + row * OC
                    for i in 0..<OC { o[i] = r[i] + bias[i] }
                }
            } else {
                out.update(from: residual, count: N * OC)
            }
            Linear.forward(out: out, inp: inp, weight: weight, bias: nil, N: N, C: C, OC: OC, accumulate: true)
        case .reference:
            LinearReference.forward(out: out, inp: inp, weight: weight, bias: bias, N: N, C: C, OC: OC)
            for i in 0..<(N * OC) { out[i] += residual[i] }
        }
    }

    @inline(__always)
    static func linearBackward(_ path: KernelPath, dinp: UnsafeMutablePointer<Float>,
                               dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
                               dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               N: Int, C: Int, OC: Int) {
        switch path {
        case .fast:
            Linear.backward(dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: inp, weight: weight,
                            N: N, C: C, OC: OC)
        case .reference:
            LinearReference.backward(dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: inp,
                                     weight: weight, N: N, C: C, OC: OC)
        }
    }
}
