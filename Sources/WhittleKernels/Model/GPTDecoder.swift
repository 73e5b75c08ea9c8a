// Token-by-token inference with a key/value cache: prefill runs the batched forward pass over
// the prompt and keeps each layer's keys and values; decode then costs one row per layer.

import Foundation

/// Incremental GPT-2 inference for one sequence of at most maxT tokens.
public final class GPTDecoder: @unchecked Sendable {
    public let layout: ParameterLayout
    let parameters: UnsafePointer<Float>
    /// Per layer: keys and values of every cached position, [maxT, C] each.
    let keys: [FloatBuffer]
    let values: [FloatBuffer]
    /// Number of positions in the cache.
    public private(set) var length = 0
    // One-row working buffers.
    let x: FloatBuffer, ln: FloatBuffer, qkv: FloatBuffer, attention: FloatBuffer, hidden: FloatBuffer
    let scores: FloatBuffer, stats: FloatBuffer
    public let logits: FloatBuffer
    /// The arena of full-window prefills, kept between them.
    private var fullWindow: ActivationArena?

    /// `parameters` must stay alive and unchanged while the decoder is used.
    public init(layout: ParameterLayout, parameters: UnsafePointer<Float>) {
        let d = layout.dimensions
        self.layout = layout
        self.parameters = parameters
        keys = (0..<d.L).map { _ in FloatBuffer(count: d.maxT * d.C) }
        values = (0..<d.L).map { _ in FloatBuffer(count: d.maxT * d.C) }
        x = FloatBuffer(count: d.C); ln = FloatBuffer(count: d.C); qkv = FloatBuffer(count: 3 * d.C)
        attention = FloatBuffer(count: d.C); hidden = FloatBuffer(count: 4 * d.C)
        scores = FloatBuffer(count: d.maxT); stats = FloatBuffer(count: 2)
        logits = FloatBuffer(count: d.V)
    }

    /// Replaces the cache with `tokens` (1...maxT of them) and leaves the next-token logits in `logits`.
    public func prefill(_ tokens: [Int32]) {
        let d = layout.dimensions
        precondition(!tokens.isEmpty && tokens.count <= d.maxT, "prefill needs 1...maxT tokens")
        let T = tokens.count
        // Past the context every token re-prefills a full window: keep that arena instead of reallocating it.
        let arena: ActivationArena
        if T == d.maxT {
            if fullWindow == nil { fullWindow = ActivationArena(dimensions: d, B: 1, T: T) }
            arena = fullWindow!
        } else {
            arena = ActivationArena(dimensions: d, B: 1, T: T)
        }
        for (i, token) in tokens.enumerated() { arena.tokens[i] = token }
        GPT.forward(parameters: parameters, layout: layout, arena: arena, withTargets: false)
        for l in 0..<d.L {
            for t in 0..<T {
                let row = arena.qkv[l].pointer + t * 3 * d.C
                (keys[l].pointer + t * d.C).update(from: row + d.C, count: d.C)
                (values[l].pointer + t * d.C).update(from: row + 2 * d.C, count: d.C)
            }
        }
        logits.pointer.update(from: arena.logits.pointer + (T - 1) * d.V, count: d.V)
        length = T
    }

    /// Appends one token at the next position (requires length < maxT) and computes its logits.
    public func decode(_ token: Int32) {
        let d = layout.dimensions
        precondition(length < d.maxT, "the cache is full")
        let p = parameters, C = d.C, pos = length
        for i in 0..<C { x[i] = p[layout.wte + Int(token) * C + i] + p[layout.wpe + pos * C + i] }
        for l in 0..<d.L {
            let w = layout.blocks[l]
            LayerNorm.forward(out: ln.pointer, mean: stats.pointer, rstd: stats.pointer + 1, inp: x.pointer,
                              weight: p + w.ln1Weight, bias: w.ln1Bias.map { p + $0 }, N: 1, C: C, epsilon: d.epsilon)
            Linear.forward(out: qkv.pointer, inp: ln.pointer, weight: p + w.attnWeight,
                           bias: w.attnBias.map { p + $0 }, N: 1, C: C, OC: 3 * C)
            (keys[l].pointer + pos * C).update(from: qkv.pointer + C, count: C)
            (values[l].pointer + pos * C).update(from: qkv.pointer + 2 * C, count: C)
            attend(layer: l, position: pos)
            Linear.forward(out: x.pointer, inp: attention.pointer, weight: p + w.projWeight,
                           bias: w.projBias.map { p + $0 }, N: 1, C: C, OC: C, accumulate: true)
            LayerNorm.forward(out: ln.pointer, mean: stats.pointer, rstd: stats.pointer + 1, inp: x.pointer,
                              weight: p + w.ln2Weight, bias: w.ln2Bias.map { p + $0 }, N: 1, C: C, epsilon: d.epsilon)
            Linear.forward(out: hidden.pointer, inp: ln.pointer, weight: p + w.fcWeight,
                           bias: w.fcBias.map { p + $0 }, N: 1, C: C, OC: 4 * C)
            GELU.forward(out: hidden.pointer, inp: hidden.pointer, count: 4 * C)
            Linear.forward(out: x.pointer, inp: hidden.pointer, weight: p + w.fcProjWeight,
                           bias: w.fcProjBias.map { p + $0 }, N: 1, C: 4 * C, OC: C, accumulate: true)
        }
        LayerNorm.forward(out: ln.pointer, mean: stats.pointer, rstd: stats.pointer + 1, inp: x.pointer,
                          weight: p + layout.lnfWeight, bias: layout.lnfBias.map { p + $0 }, N: 1, C: C,
                          epsilon: d.epsilon)
        BLAS.gemm(transposeA: false, transposeB: true, m: 1, n: d.V, k: C, a: ln.pointer, lda: C,
                  b: p + layout.wte, ldb: C, beta: 0, c: logits.pointer, ldc: d.V)
        length += 1
    }

    /// attention[h·hs..] = softmax(q_h·K_hᵀ/√hs) · V_h over positions 0...position.
    private func attend(layer l: Int, position: Int) {
        let d = layout.dimensions
        let C = d.C, hs = C / d.NH
        let scale = 1 / Float(hs).squareRoot()
        let K = keys[l].pointer, V = values[l].pointer
        for h in 0..<d.NH {
            let q = qkv.pointer + h * hs
            var maximum = -Float.greatestFiniteMagnitude
            for j in 0...position {
                let k = K + j * C + h * hs
                var dot: Float = 0
                for i in 0..<hs { dot += q[i] * k[i] }
                scores[j] = dot * scale
                maximum = max(maximum, scores[j])
            }
            var sum: Float = 0
            for j in 0...position {
                scores[j] = FastMath.exp(scores[j] - maximum)
                sum += scores[j]
            }
            let out = attention.pointer + h * hs
            out.update(repeating: 0, count: hs)
            for j in 0...position {
                let weight = scores[j] / sum
                let v = V + j * C + h * hs
                for i in 0..<hs { out[i] += weight * v[i] }
            }
        }
    }
}
