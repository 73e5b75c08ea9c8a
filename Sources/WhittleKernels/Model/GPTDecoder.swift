// Token-by-token inference with a key/value cache, on the same forward pass as training and
// evaluation: prefill runs `GPT.forward` over the prompt (batched attention) and keeps each layer's
// keys and values; decode runs it over one new position that attends over the cache.

/// Incremental GPT-2 inference for one sequence of at most maxT tokens, over any weight formats.
public final class GPTDecoder: @unchecked Sendable {
    public let weights: ModelWeights
    let cache: KVCache
    /// The one-position arena decode runs in.
    let step: ActivationArena
    /// The arena of full-window prefills, kept between them.
    private var fullWindow: ActivationArena?
    /// The next-token logits after the last prefill or decode, [V].
    public let logits: FloatBuffer

    /// Number of positions in the cache.
    public var length: Int { cache.length }

    /// The weights' storage must stay alive and unchanged while the decoder is used.
    public init(weights: ModelWeights) {
        let d = weights.dimensions
        self.weights = weights
        cache = KVCache(dimensions: d)
        step = ActivationArena(dimensions: d, B: 1, T: 1)
        logits = FloatBuffer(count: d.V)
    }

    /// Replaces the cache with `tokens` (1...maxT of them) and leaves the next-token logits in `logits`.
    public func prefill(_ tokens: [Int32]) {
        let d = weights.dimensions
        precondition(!tokens.isEmpty && tokens.count <= d.maxT, "prefill needs 1...maxT tokens")
        let T = tokens.count
        // Past the context every token re-prefills a full window: keep that arena instead of reallocating it.
        let arena: ActivationArena
        if T == d.maxT {
            if fullWindow == nil { fullWindow = ActivationArena(dimensions: d, B: 1, T: T) }
            arena = fullWindow!
        } else {
            arena = T == 1 ? step : ActivationArena(dimensions: d, B: 1, T: T)
        }
        for (i, token) in tokens.enumerated() { arena.tokens[i] = token }
        cache.reset()
        GPT.forward(weights: weights, arena: arena, withTargets: false, cache: cache)
        logits.pointer.update(from: arena.logits.pointer + (T - 1) * d.V, count: d.V)
    }

    /// Appends one token at the next position (requires length < maxT) and computes its logits.
    public func decode(_ token: Int32) {
        precondition(cache.length < weights.dimensions.maxT, "the cache is full")
        step.tokens[0] = token
        GPT.forward(weights: weights, arena: step, withTargets: false, cache: cache)
        logits.pointer.update(from: step.logits.pointer, count: weights.dimensions.V)
    }
}
