// The GPT-2 backward pass, written once for fp32 and 16-bit arenas. In a bf16/fp16 arena every
// gradient is rounded to 16 bits where it enters a matmul (values that rounding flushes to zero
// are counted in `arena.flushedGradients`); LayerNorm, softmax, GELU and all accumulation stay fp32.

/// A gradient as a product reads it: always fp32 (bias sums, LayerNorm), plus its 16-bit rounding in a 16-bit arena.
struct MatmulGradient {
    let f32: UnsafePointer<Float>
    let half: UnsafePointer<UInt16>?
}

/// Rounds gradients into the arena's 16-bit gradient buffer (16-bit arenas only) and counts flushed values.
struct GradientRounding {
    let arena: ActivationArena
    var flushed = 0

    /// `gradient` ready for a product: as it is in fp32, rounded into the 16-bit buffer's start otherwise.
    mutating func operand(_ gradient: UnsafePointer<Float>, count: Int) -> MatmulGradient {
        guard let half = arena.half else { return MatmulGradient(f32: gradient, half: nil) }
        flushed += HalfConversion.round(gradient, to: half.gradient.pointer, count: count, format: arena.precision)
        return MatmulGradient(f32: gradient, half: half.gradient.pointer)
    }
}

/// Where backward's gradient starts.
public enum LossHead {
    /// Cross-entropy against `arena.targets` (language modelling).
    case crossEntropy
    /// Another loss already wrote d(lossScale · loss)/dlogits into `arena.logits` (distillation); `hidden`,
    /// when given, is d(lossScale · loss)/dx_L ([B·T, C], the final residual), added before ln_f's backward.
    case given(hidden: UnsafePointer<Float>?)
}

extension GPT {
    /// Accumulates d(lossScale · mean loss)/dθ into `gradients` (laid out like `weights.layout`'s fp32 arena).
    /// Requires a preceding `forward(withTargets: true)` on the same arena and fp32 weights (or their 16-bit copy).
    public static func backward(weights w: ModelWeights, gradients g: UnsafeMutablePointer<Float>, arena a: ActivationArena,
                                lossScale: Float = 1, path: KernelPath = .fast, lossHead: LossHead = .crossEntropy) {
        let layout = w.layout, d = w.dimensions
        let B = a.B, T = a.T, C = d.C, V = d.V, N = B * T
        precondition(path == .fast || (a.half == nil && a.dropout == nil), "the reference path runs fp32 arenas without dropout")
        let dres = a.dResidual.pointer, dln = a.dLayerInput.pointer
        var rounding = GradientRounding(arena: a)
        /// The gradient reaching a residual branch's output: dres itself, or a masked copy under dropout.
        func branchGradient(layer l: Int, site: Int) -> UnsafePointer<Float> {
            guard let drop = a.dropout else { return UnsafePointer(dres) }
            a.projected.pointer.update(from: dres, count: N * C)
            drop.apply(a.projected.pointer, count: N * C, width: C, T: T, layer: l, site: site)
            return UnsafePointer(a.projected.pointer)
        }
        // Loss head: dlogits overwrites the logits buffer (or is already there).
        var hidden: UnsafePointer<Float>?
        switch lossHead {
        case .crossEntropy:
            CrossEntropy.backward(dlogits: a.logits.pointer, probs: a.probsOut.pointer, targets: a.targets, N: N, V: V,
                                  scale: lossScale / Float(N))
        case .given(let given):
            hidden = given
        }
        linearBackward(path, dinp: dln, dweight: g + layout.wte, dbias: nil,
                       dout: rounding.operand(a.logits.pointer, count: N * V), inp: a.lnfOut, weight: w.head, arena: a)
        a.dResidual.zero()
        if let hidden { dres.update(from: hidden, count: N * C) }
        LayerNorm.backward(dinp: dres, dweight: g + layout.lnfWeight, dbias: layout.lnfBias.map { g + $0 },
                           dout: dln, inp: a.residuals[d.L].pointer, weight: w.finalNorm.gain,
                           mean: a.lnfMean.pointer, rstd: a.lnfRstd.pointer, N: N, C: C)
        for l in stride(from: d.L - 1, through: 0, by: -1) {
            if a.isCheckpointed(l) {
                blockForward(layer: l, weights: w, arena: a, path: path, writeOutput: false)
            }
            let o = layout.blocks[l], bw = w.blocks[l]
            let A = d.attentionWidth(l), H = d.layers[l].hiddenWidth
            // MLP: x_{l+1} = mid + c_proj(gelu(c_fc(ln_2(mid))))
            let dfc = a.dFC.pointer
            linearBackward(path, dinp: dfc, dweight: g + o.fcProjWeight, dbias: o.fcProjBias.map { g + $0 },
                           dout: rounding.operand(branchGradient(layer: l, site: 3), count: N * C), inp: a.fcGelu(l),
                           weight: bw.mlpDown.weight, arena: a)
            let dup = geluBackward(dfc, derivative: a.fcDerivative(l), count: N * H, rounding: &rounding)
            linearBackward(path, dinp: dln, dweight: g + o.fcWeight, dbias: o.fcBias.map { g + $0 }, dout: dup,
                           inp: a.ln2(l), weight: bw.mlpUp.weight, arena: a)
            LayerNorm.backward(dinp: dres, dweight: g + o.ln2Weight, dbias: o.ln2Bias.map { g + $0 }, dout: dln,
                               inp: normInput(layer: l, arena: a), weight: bw.ln2.gain,
                               mean: a.ln2Mean[l].pointer, rstd: a.ln2Rstd[l].pointer, N: N, C: C)
            // Attention: mid = x_l + c_proj(attn(c_attn(ln_1(x_l))))
            let datt = a.dAttentionOut.pointer
            linearBackward(path, dinp: datt, dweight: g + o.projWeight, dbias: o.projBias.map { g + $0 },
                           dout: rounding.operand(branchGradient(layer: l, site: 2), count: N * C),
                           inp: a.attentionOut(l), weight: bw.attentionOutput.weight, arena: a)
            attentionBackward(layer: l, dout: datt, arena: a, path: path, rounding: &rounding)
            linearBackward(path, dinp: dln, dweight: g + o.attnWeight, dbias: o.attnBias.map { g + $0 },
                           dout: rounding.operand(a.dQKV.pointer, count: N * 3 * A), inp: a.ln1(l),
                           weight: bw.qkv.weight, arena: a)
            LayerNorm.backward(dinp: dres, dweight: g + o.ln1Weight, dbias: o.ln1Bias.map { g + $0 }, dout: dln,
                               inp: a.residuals[l].pointer, weight: bw.ln1.gain,
                               mean: a.ln1Mean[l].pointer, rstd: a.ln1Rstd[l].pointer, N: N, C: C)
        }
        embeddingBackward(gradients: g, layout: layout, arena: a)
        a.flushedGradients += rounding.flushed
    }

    /// The embeddings' gradients from `dResidual` (the gradient reaching x_0), through the embedding
    /// dropout mask when dropout is on.
    static func embeddingBackward(gradients g: UnsafeMutablePointer<Float>, layout: ParameterLayout, arena a: ActivationArena) {
        let B = a.B, T = a.T, C = layout.dimensions.C
        let dres = a.dResidual.pointer
        a.dropout?.apply(dres, count: B * T * C, width: C, T: T, layer: layout.dimensions.L, site: 0)
        Encoder.backward(dwte: g + layout.wte, dwpe: g + layout.wpe, dout: dres, tokens: a.tokens, B: B, T: T, C: C)
    }

    /// dinp = dout·Wᵀ (overwritten), dweight += the weight gradient in W's orientation, dbias += Σ_rows dout,
    /// with fp32 operands or, in a 16-bit arena, the 16-bit activation, weight copy and rounded gradient.
    static func linearBackward(_ path: KernelPath, dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                               dbias: UnsafeMutablePointer<Float>?, dout: MatmulGradient, inp: ActivationBuffer,
                               weight w: WeightOperand, arena a: ActivationArena) {
        let N = a.B * a.T, K = w.inputs, M = w.outputs
        switch inp {
        case .f32(let x):
            MatrixProduct.backward(path, dinp: dinp, dweight: dweight, dbias: dbias, dout: dout.f32, inp: x, weight: w, rows: N)
        case .half(let x, let format):
            let g16 = dout.half!, scratch = a.half!.matmul
            if w.orientation == .outputMajor {
                HalfMatmul.product(format, transposeA: false, transposeB: false, m: N, n: K, k: M, a: g16, lda: M,
                                   b: w.halves, ldb: K, c: dinp, ldc: K, accumulate: false, scratch: scratch)
                HalfMatmul.product(format, transposeA: true, transposeB: false, m: M, n: K, k: N, a: g16, lda: M,
                                   b: x, ldb: K, c: dweight, ldc: K, accumulate: true, scratch: scratch)
            } else {
                HalfMatmul.product(format, transposeA: false, transposeB: true, m: N, n: K, k: M, a: g16, lda: M,
                                   b: w.halves, ldb: M, c: dinp, ldc: K, accumulate: false, scratch: scratch)
                HalfMatmul.product(format, transposeA: true, transposeB: false, m: K, n: M, k: N, a: x, lda: K,
                                   b: g16, ldb: M, c: dweight, ldc: M, accumulate: true, scratch: scratch)
            }
            if let dbias { Linear.sumRows(into: dbias, dout.f32, N: N, OC: M) }
        }
    }

    /// dfc = dgelu · gelu'(c_fc output), in place; in 16 bits also rounded for the next products.
    static func geluBackward(_ dfc: UnsafeMutablePointer<Float>, derivative: ActivationBuffer, count: Int,
                             rounding: inout GradientRounding) -> MatmulGradient {
        switch derivative {
        case .f32(let dy):
            GELU.backwardFromDerivative(dfc, derivative: dy, count: count)
            return MatmulGradient(f32: dfc, half: nil)
        case .half(let dy, let format):
            let g16 = rounding.arena.half!.gradient.pointer
            rounding.flushed += GELU.backwardRounded(dfc, derivative: dy, into: g16, count: count, format: format)
            return MatmulGradient(f32: dfc, half: g16)
        }
    }

    /// LayerNorm 2's input for its backward: the kept fp32 mid-point, or its 16-bit copy widened into
    /// dAttentionOut (free until attention's backward).
    static func normInput(layer l: Int, arena a: ActivationArena) -> UnsafePointer<Float> {
        guard let half = a.half else { return UnsafePointer(a.residualMid[l].pointer) }
        let wide = a.dAttentionOut.pointer
        HalfConversion.widen(half.residualMid[l].pointer, to: wide, count: a.B * a.T * a.dimensions.C, format: a.precision)
        return UnsafePointer(wide)
    }

    /// dqkv (fp32, every element of `arena.dQKV`) from the attention output's gradient `dout`.
    static func attentionBackward(layer l: Int, dout: UnsafeMutablePointer<Float>, arena a: ActivationArena,
                                  path: KernelPath, rounding: inout GradientRounding) {
        let d = a.dimensions, B = a.B, T = a.T
        let heads = d.layers[l].heads, A = d.attentionWidth(l)
        let drop = a.dropout.map { ($0, $0.seed(layer: l, site: 1), a.droppedScores.pointer) }
        if let half = a.half {
            // The rounded dout sits after the [N, 3A] that dqkv's rounding will take.
            let dout16 = half.gradient.pointer + B * T * 3 * A
            rounding.flushed += HalfConversion.round(dout, to: dout16, count: B * T * A, format: a.precision)
            rounding.flushed += HalfAttention.backward(
                dqkv: a.dQKV.pointer, dout: dout16, qkv: half.qkv[l].pointer, probs: half.probs[l].pointer,
                scores: a.dScores.pointer, scoresGradient: half.scoresGradient.pointer,
                probabilityRow: half.probabilityRow.pointer, B: B, T: T, C: A, NH: heads, format: a.precision,
                matmul: half.matmul, dropout: drop, dropped: half.droppedProbabilities.pointer)
            return
        }
        switch path {
        case .fast:
            Attention.backward(dqkv: a.dQKV.pointer, scratch: a.dScores.pointer, dout: dout, qkv: a.qkv[l].pointer,
                               probs: a.probs[l].pointer, B: B, T: T, C: A, NH: heads, dropout: drop)
        case .reference:
            AttentionReference.backward(dqkv: a.dQKV.pointer, dout: dout, qkv: a.qkv[l].pointer,
                                        probs: a.probs[l].pointer, B: B, T: T, C: A, NH: heads)
        }
    }
}
