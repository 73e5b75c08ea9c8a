// The GPT-2 forward pass, written once, over a weight operand set (`ModelWeights`: fp32, a 16-bit
// copy, or block-quantized) and an activation arena (fp32 or 16-bit). Training, evaluation and the
// KV-cached decoder all run it. Reads top to bottom like the architecture: embed, L pre-LN blocks,
// final LN, tied LM head. The backward pass is `GPT+Backward.swift`; the per-layer kernel choice
// (by activation precision and weight format) is `GPT+Layers.swift`.

/// Which implementation of the matmul-heavy layers to run.
public enum KernelPath: Sendable {
    /// BLAS.gemm (ck_sgemm or OpenBLAS sgemm), the 16-bit GEMMs, the quantized kernels (the default).
    case fast
    /// Plain loops, for tests (fp32 arenas without dropout).
    case reference
}

/// GPT-2 forward/backward (Radford et al. 2019) over explicit buffers.
public enum GPT {
    /// Runs the model on `arena.tokens` ([B,T], T ≤ maxT). With targets, computes per-token losses
    /// into `arena.losses` and returns their mean; without, leaves logits in `arena.logits` and returns nil.
    /// With a `cache` (B = 1, fp32 arena), the tokens are the positions after the cached ones: their
    /// keys and values are appended and every query attends over the whole cache.
    /// With `firstLayer` > 0 (no cache, no dropout) the embedding and the blocks before it are skipped:
    /// `arena.residuals[firstLayer]` must already hold that block's input (a sensitivity scan reuses the
    /// base model's prefix when only later weights differ).
    /// A prefill (several positions into a `cache`, fast path) splits its layers between the products over
    /// `prefillThreads` threads of the pool (the BLAS thread count when nil); the result does not depend on it.
    @discardableResult
    public static func forward(weights w: ModelWeights, arena a: ActivationArena, withTargets: Bool,
                               path: KernelPath = .fast, cache: KVCache? = nil, firstLayer: Int = 0,
                               prefillThreads: Int? = nil) -> Float? {
        let d = w.dimensions
        let B = a.B, T = a.T, C = d.C, V = d.V, N = B * T
        precondition(path == .fast || (a.half == nil && a.dropout == nil), "the reference path runs fp32 arenas without dropout")
        precondition(cache == nil || (B == 1 && a.half == nil && cache!.length + T <= d.maxT),
                     "a KV cache takes one fp32 sequence within the context")
        precondition(firstLayer == 0 || (cache == nil && a.dropout == nil && firstLayer <= d.L),
                     "a forward from a later block takes no cache and no dropout")
        if firstLayer == 0 {
            embed(weights: w, arena: a, firstPosition: cache?.length ?? 0)
            a.dropout?.apply(a.residuals[0].pointer, count: N * C, width: C, T: T, layer: d.L, site: 0)   // the embeddings' site
        }
        // A prefill (several new positions into a cache, inference only) threads its LayerNorms, GELUs,
        // residual adds and attention over the pool and skips what only backward needs.
        let prefill: Int? = cache != nil && T > 1 && path == .fast && a.dropout == nil
            ? max(prefillThreads ?? BLAS.threadCount, 1) : nil
        for l in firstLayer..<d.L {
            blockForward(layer: l, weights: w, arena: a, path: path, writeOutput: true, cache: cache, prefill: prefill)
        }
        if let cache { cache.length += T }
        norm(out: a.lnfOut, mean: a.lnfMean.pointer, rstd: a.lnfRstd.pointer, inp: a.residuals[d.L].pointer,
             weights: w.finalNorm, arena: a, threads: prefill ?? 1)
        linear(path, out: .f32(a.logits.pointer), inp: a.lnfOut, weight: w.head, bias: nil, arena: a)
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
    /// `prefill` (an inference prefill's thread count) threads the layers between the products and
    /// leaves out GELU's derivative; every value is computed as with one thread.
    static func blockForward(layer l: Int, weights: ModelWeights, arena a: ActivationArena, path: KernelPath,
                             writeOutput: Bool, cache: KVCache? = nil, prefill: Int? = nil) {
        let w = weights.blocks[l]
        let x = a.residuals[l].pointer, mid = a.residualMid[l].pointer
        let threads = prefill ?? 1
        // Attention: mid = x + c_proj(attention(c_attn(ln_1(x))))
        norm(out: a.ln1(l), mean: a.ln1Mean[l].pointer, rstd: a.ln1Rstd[l].pointer, inp: x, weights: w.ln1, arena: a,
             threads: threads)
        linear(path, out: a.qkv(l), inp: a.ln1(l), weight: w.qkv.weight, bias: w.qkv.bias, arena: a)
        attention(layer: l, arena: a, path: path, cache: cache, prefill: prefill)
        residualLinear(path, out: mid, residual: x, inp: a.attentionOut(l), weights: w.attentionOutput, arena: a,
                       layer: l, site: 2, threads: threads)
        keepNormInput(mid, layer: l, arena: a)
        // MLP: x_{l+1} = mid + c_proj(gelu(c_fc(ln_2(mid))))
        norm(out: a.ln2(l), mean: a.ln2Mean[l].pointer, rstd: a.ln2Rstd[l].pointer, inp: mid, weights: w.ln2, arena: a,
             threads: threads)
        let up = a.mlpUpOutput(l)
        linear(path, out: .f32(up), inp: a.ln2(l), weight: w.mlpUp.weight, bias: w.mlpUp.bias, arena: a)
        let width = w.mlpUp.weight.outputs
        if prefill != nil, case .f32(let y) = a.fcGelu(l) {
            // Inference: no backward, so no derivative; rows split over the pool.
            Parallel.onPool(threads) { part in
                let rows = Parallel.range(part, of: threads, total: a.B * a.T)
                GELU.forward(out: y + rows.lowerBound * width, inp: up + rows.lowerBound * width, count: rows.count * width)
            }
        } else {
            gelu(input: up, out: a.fcGelu(l), derivative: a.fcDerivative(l), count: a.B * a.T * width)
        }
        guard writeOutput else { return }
        residualLinear(path, out: a.residuals[l + 1].pointer, residual: mid, inp: a.fcGelu(l), weights: w.mlpDown,
                       arena: a, layer: l, site: 3, threads: threads)
    }
}
