// The 16-bit side of a bf16/fp16 activation arena: every activation backward reads, stored as
// bf16 or fp16 bit patterns, plus the 16-bit scratch the mixed-precision backward rounds gradients
// into before they enter a matmul. Checkpointed blocks share one set of block buffers, as in fp32.

/// 16-bit activations (per block) and scratch of one worker's arena.
public final class HalfActivations: @unchecked Sendable {
    public let ln1: [HalfBuffer]          // [B,T,C]
    public let qkv: [HalfBuffer]          // [B,T,3A]
    public let attentionOut: [HalfBuffer] // [B,T,A]
    public let probs: [HalfBuffer]        // [B,heads,T,T]
    public let residualMid: [HalfBuffer]  // [B,T,C], LayerNorm 2's input
    public let ln2: [HalfBuffer]          // [B,T,C]
    public let fcDerivative: [HalfBuffer] // [B,T,H] gelu'(c_fc output)
    public let fcGelu: [HalfBuffer]       // [B,T,H]
    public let lnf: HalfBuffer            // [B,T,C]

    /// A gradient rounded to 16 bits for the next matmuls: [B,T,gradientWidth].
    public let gradient: HalfBuffer
    /// Attention: one head's dScores rounded to 16 bits, [T,T].
    public let scoresGradient: HalfBuffer
    /// Attention dropout: one head's dropped probabilities in 16 bits, [T,T] (dropout only).
    public let droppedProbabilities: HalfBuffer
    /// Attention backward: one probability row widened to fp32, [T].
    public let probabilityRow: FloatBuffer
    /// fp32 work buffers for the widening matmul fallback, sized up front (empty on the native bf16 path).
    public let matmul: MatmulScratch

    init(sizes: BlockSizes, supportsDropout: Bool, precision: Precision) {
        let d = sizes.dimensions, B = sizes.B, T = sizes.T
        let btc = B * T * d.C
        let fallback = Self.fallbackFloats(sizes: sizes, precision: precision)
        matmul = MatmulScratch(a: fallback.a, b: fallback.b, c: fallback.c)
        func perBlock(_ size: (Int) -> Int) -> [HalfBuffer] {
            let shared = sizes.sharedSize(size).map { HalfBuffer(count: $0) }
            return (0..<d.L).map { sizes.checkpointed[$0] ? shared! : HalfBuffer(count: size($0)) }
        }
        ln1 = perBlock(sizes.model)
        qkv = perBlock(sizes.qkv)
        attentionOut = perBlock(sizes.attention)
        probs = perBlock(sizes.probabilities)
        residualMid = perBlock(sizes.model)
        ln2 = perBlock(sizes.model)
        fcDerivative = perBlock(sizes.hidden)
        fcGelu = perBlock(sizes.hidden)
        lnf = HalfBuffer(count: btc)
        gradient = HalfBuffer(count: B * T * Self.gradientWidth(d))
        scoresGradient = HalfBuffer(count: T * T)
        droppedProbabilities = HalfBuffer(count: supportsDropout ? T * T : 0)
        probabilityRow = FloatBuffer(count: T)
    }

    /// Widest row a rounded gradient has: c_fc's H, the vocabulary at the LM head, or attention's
    /// dqkv (3A) followed by its rounded output gradient (A).
    static func gradientWidth(_ d: GPTDimensions) -> Int { max(d.maxHiddenWidth, 4 * d.maxAttentionWidth, d.V) }

    /// Scratch bytes of an arena of this shape (for estimates before allocation).
    static func scratchBytes(sizes: BlockSizes, supportsDropout: Bool, precision: Precision) -> Int {
        let B = sizes.B, T = sizes.T
        let fallback = fallbackFloats(sizes: sizes, precision: precision)
        return 2 * (B * T * gradientWidth(sizes.dimensions) + T * T + (supportsDropout ? T * T : 0))
            + 4 * (T + fallback.a + fallback.b + fallback.c)
    }

    /// The widening fallback's largest operands: A and B of the weight-gradient products
    /// ([B·T, gradient width]) and the rounded qkv product ([B·T, 3A]); nothing on the native path.
    static func fallbackFloats(sizes: BlockSizes, precision: Precision) -> (a: Int, b: Int, c: Int) {
        if HalfMatmul.runsNatively(precision) { return (0, 0, 0) }
        let d = sizes.dimensions
        let widest = sizes.B * sizes.T * gradientWidth(d)
        return (widest, widest, sizes.B * sizes.T * 3 * d.maxAttentionWidth)
    }

    /// Bytes of the kept 16-bit activations (shared checkpoint buffers counted once).
    var keptByteCount: Int {
        var seen = Set<ObjectIdentifier>()
        let blocks = [ln1, qkv, attentionOut, probs, residualMid, ln2, fcDerivative, fcGelu].joined()
            .filter { seen.insert(ObjectIdentifier($0)).inserted }
        return blocks.reduce(0) { $0 + $1.byteCount } + lnf.byteCount
    }

    /// Bytes of the 16-bit scratch and the matmul fallback's work buffers.
    var scratchByteCount: Int {
        gradient.byteCount + scoresGradient.byteCount + droppedProbabilities.byteCount + probabilityRow.byteCount
            + matmul.byteCount
    }
}
