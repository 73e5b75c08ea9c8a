// The 16-bit side of a bf16/fp16 activation arena: every activation backward reads, stored as
// bf16 or fp16 bit patterns, plus the 16-bit scratch the mixed-precision backward rounds gradients
// into before they enter a matmul. Checkpointed blocks share one set of block buffers, as in fp32.

/// 16-bit activations (per block) and scratch of one worker's arena.
public final class HalfActivations: @unchecked Sendable {
    public let ln1: [HalfBuffer]          // [B,T,C]
    public let qkv: [HalfBuffer]          // [B,T,3C]
    public let attentionOut: [HalfBuffer] // [B,T,C]
    public let probs: [HalfBuffer]        // [B,NH,T,T]
    public let residualMid: [HalfBuffer]  // [B,T,C], LayerNorm 2's input
    public let ln2: [HalfBuffer]          // [B,T,C]
    public let fcDerivative: [HalfBuffer] // [B,T,4C] gelu'(c_fc output)
    public let fcGelu: [HalfBuffer]       // [B,T,4C]
    public let lnf: HalfBuffer            // [B,T,C]

    /// A gradient rounded to 16 bits for the next matmuls: [B,T,max(4C, 3C, V)].
    public let gradient: HalfBuffer
    /// Attention: one head's dScores rounded to 16 bits, [T,T].
    public let scoresGradient: HalfBuffer
    /// Attention dropout: one head's dropped probabilities in 16 bits, [T,T] (dropout only).
    public let droppedProbabilities: HalfBuffer
    /// Attention backward: one probability row widened to fp32, [T].
    public let probabilityRow: FloatBuffer
    /// fp32 work buffers for the widening matmul fallback, sized up front (empty on the native bf16 path).
    public let matmul: MatmulScratch

    init(dimensions d: GPTDimensions, B: Int, T: Int, checkpointed: [Bool], supportsDropout: Bool, precision: Precision) {
        let btc = B * T * d.C
        let fallback = Self.fallbackFloats(dimensions: d, B: B, T: T, precision: precision)
        matmul = MatmulScratch(a: fallback.a, b: fallback.b, c: fallback.c)
        func perBlock(_ size: Int) -> [HalfBuffer] {
            let shared = checkpointed.contains(true) ? HalfBuffer(count: size) : nil
            return checkpointed.map { $0 ? shared! : HalfBuffer(count: size) }
        }
        ln1 = perBlock(btc)
        qkv = perBlock(3 * btc)
        attentionOut = perBlock(btc)
        probs = perBlock(B * d.NH * T * T)
        residualMid = perBlock(btc)
        ln2 = perBlock(btc)
        fcDerivative = perBlock(4 * btc)
        fcGelu = perBlock(4 * btc)
        lnf = HalfBuffer(count: btc)
        gradient = HalfBuffer(count: B * T * Self.gradientWidth(d))
        scoresGradient = HalfBuffer(count: T * T)
        droppedProbabilities = HalfBuffer(count: supportsDropout ? T * T : 0)
        probabilityRow = FloatBuffer(count: T)
    }

    /// Widest row a rounded gradient has: c_fc's 4C, or the vocabulary at the LM head.
    static func gradientWidth(_ d: GPTDimensions) -> Int { max(4 * d.C, d.V) }

    /// Scratch bytes of an arena of this shape (for estimates before allocation).
    static func scratchBytes(dimensions d: GPTDimensions, B: Int, T: Int, supportsDropout: Bool, precision: Precision) -> Int {
        let fallback = fallbackFloats(dimensions: d, B: B, T: T, precision: precision)
        return 2 * (B * T * gradientWidth(d) + T * T + (supportsDropout ? T * T : 0))
            + 4 * (T + fallback.a + fallback.b + fallback.c)
    }

    /// The widening fallback's largest operands: A and B of the weight-gradient products
    /// ([B·T, max(4C, V)]) and the rounded qkv product ([B·T, 3C]); nothing on the native path.
    static func fallbackFloats(dimensions d: GPTDimensions, B: Int, T: Int, precision: Precision) -> (a: Int, b: Int, c: Int) {
        if HalfMatmul.runsNatively(precision) { return (0, 0, 0) }
        let widest = B * T * gradientWidth(d)
        return (widest, widest, B * T * 3 * d.C)
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
