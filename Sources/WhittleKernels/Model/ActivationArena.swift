// Every activation a training step keeps for backward, plus the backward scratch, allocated
// once for a (batch, context) shape. One arena per worker; the hot loop allocates nothing.
// With activation checkpointing, the checkpointed blocks share one set of block buffers: forward
// keeps only their inputs (the residual stream) and backward recomputes the rest block by block.

/// Activation and scratch buffers for one worker at batch size B and sequence length T.
public final class ActivationArena: @unchecked Sendable {
    public let dimensions: GPTDimensions
    public let B: Int
    public let T: Int
    /// Checkpointing interval: 0 keeps every block's activations; k recomputes blocks l with l % k == 0.
    public let checkpointEvery: Int

    // Forward activations (index l = layer).
    public let residuals: [FloatBuffer]    // x_0 ... x_L, each [B,T,C]
    public let ln1: [FloatBuffer], ln1Mean: [FloatBuffer], ln1Rstd: [FloatBuffer]
    public let qkv: [FloatBuffer]          // [B,T,3C]
    public let attentionOut: [FloatBuffer] // [B,T,C], before c_proj
    public let probs: [FloatBuffer]        // [B,NH,T,T]
    public let residualMid: [FloatBuffer]  // x_l + attention, [B,T,C]
    public let ln2: [FloatBuffer], ln2Mean: [FloatBuffer], ln2Rstd: [FloatBuffer]
    public let fc: [FloatBuffer]           // [B,T,4C] c_fc output, then (after GELU) gelu' of it
    public let fcGelu: [FloatBuffer]       // [B,T,4C]
    public let lnf: FloatBuffer, lnfMean: FloatBuffer, lnfRstd: FloatBuffer
    public let logits: FloatBuffer         // [B,T,V]; reused for dlogits in backward
    public let probsOut: FloatBuffer       // [B,T,V] softmax of the logits
    public let losses: FloatBuffer         // [B,T]
    public let tokens: UnsafeMutablePointer<Int32>
    public let targets: UnsafeMutablePointer<Int32>

    // Backward scratch, reused by every layer.
    public let dResidual: FloatBuffer      // [B,T,C]
    public let dLayerInput: FloatBuffer    // [B,T,C]
    public let dAttentionOut: FloatBuffer  // [B,T,C]
    public let dQKV: FloatBuffer           // [B,T,3C]
    public let dFC: FloatBuffer            // [B,T,4C]
    public let dScores: FloatBuffer        // [T,T]
    public let droppedScores: FloatBuffer  // [T,T] attention probabilities after dropout (dropout only)
    public let projected: FloatBuffer      // [B,T,C] a residual branch before dropout, or its masked gradient

    /// Dropout for the next forward/backward pass; nil (the default) runs without it, as evaluation does.
    /// Setting it requires an arena made with `supportsDropout`.
    public var dropout: DropoutSettings? {
        didSet { precondition(dropout == nil || projected.count > 0, "this arena was made without dropout support") }
    }

    /// Whether block `layer` is recomputed in backward instead of kept.
    public func isCheckpointed(_ layer: Int) -> Bool { checkpointEvery > 0 && layer % checkpointEvery == 0 }

    /// `supportsDropout` allocates the two extra scratch buffers dropout needs; `checkpointEvery`
    /// (0 = off, 1 = every block, k = every k-th block) shares one set of block buffers among the
    /// checkpointed blocks.
    public init(dimensions d: GPTDimensions, B: Int, T: Int, supportsDropout: Bool = false, checkpointEvery: Int = 0) {
        dimensions = d
        self.B = B
        self.T = T
        self.checkpointEvery = max(0, checkpointEvery)
        let btc = B * T * d.C, bt = B * T
        let checkpointed = (0..<d.L).map { checkpointEvery > 0 && $0 % checkpointEvery == 0 }
        /// One buffer per block, except that checkpointed blocks all share `shared`.
        func perBlock(_ size: Int) -> [FloatBuffer] {
            let shared = checkpointed.contains(true) ? FloatBuffer(count: size) : nil
            return checkpointed.map { $0 ? shared! : FloatBuffer(count: size) }
        }
        residuals = (0...d.L).map { _ in FloatBuffer(count: btc) }
        ln1 = perBlock(btc); ln1Mean = perBlock(bt); ln1Rstd = perBlock(bt)
        qkv = perBlock(3 * btc)
        attentionOut = perBlock(btc)
        probs = perBlock(B * d.NH * T * T)
        residualMid = perBlock(btc)
        ln2 = perBlock(btc); ln2Mean = perBlock(bt); ln2Rstd = perBlock(bt)
        fc = perBlock(4 * btc)
        fcGelu = perBlock(4 * btc)
        lnf = FloatBuffer(count: btc); lnfMean = FloatBuffer(count: bt); lnfRstd = FloatBuffer(count: bt)
        logits = FloatBuffer(count: bt * d.V)
        probsOut = FloatBuffer(count: bt * d.V)
        losses = FloatBuffer(count: bt)
        tokens = .allocate(capacity: bt)
        tokens.initialize(repeating: 0, count: bt)
        targets = .allocate(capacity: bt)
        targets.initialize(repeating: 0, count: bt)
        dResidual = FloatBuffer(count: btc)
        dLayerInput = FloatBuffer(count: btc)
        dAttentionOut = FloatBuffer(count: btc)
        dQKV = FloatBuffer(count: 3 * btc)
        dFC = FloatBuffer(count: 4 * btc)
        dScores = FloatBuffer(count: T * T)
        droppedScores = FloatBuffer(count: supportsDropout ? T * T : 0)
        projected = FloatBuffer(count: supportsDropout ? btc : 0)
    }

    deinit {
        tokens.deallocate()
        targets.deallocate()
    }

    /// The bytes an arena of this shape would hold (`byteCounts`), computed from the dimensions
    /// alone, without allocating: for memory estimates before a run starts.
    /// With `checkpointEvery` > 0 the checkpointed blocks share one set of block buffers, as in `init`.
    public static func byteCounts(dimensions d: GPTDimensions, B: Int, T: Int, supportsDropout: Bool = false,
                                  checkpointEvery: Int = 0) -> (activations: Int, scratch: Int) {
        let float = MemoryLayout<Float>.stride
        let btc = B * T * d.C, bt = B * T, L = d.L
        let perLayer = btc          // ln1
            + 2 * bt                // ln1Mean, ln1Rstd
            + 3 * btc               // qkv
            + btc                   // attentionOut
            + B * d.NH * T * T      // probs
            + btc                   // residualMid
            + btc + 2 * bt          // ln2, ln2Mean, ln2Rstd
            + 4 * btc + 4 * btc     // fc, fcGelu
        let checkpointed = checkpointEvery > 0 ? (0..<L).filter { $0 % checkpointEvery == 0 }.count : 0
        let blockSets = L - checkpointed + (checkpointed > 0 ? 1 : 0)
        let kept = (L + 1) * btc + blockSets * perLayer
            + btc + 2 * bt          // lnf, lnfMean, lnfRstd
            + 2 * bt * d.V          // logits, probsOut
            + bt                    // losses
        let scratch = 3 * btc + 3 * btc + 4 * btc + T * T + (supportsDropout ? T * T + btc : 0)
        return (kept * float + 2 * bt * MemoryLayout<Int32>.stride, scratch * float)
    }

    /// Exact bytes held, split into what forward keeps for backward and backward's scratch.
    public var byteCounts: (activations: Int, scratch: Int) {
        // Shared (checkpointed) block buffers are counted once.
        var seen = Set<ObjectIdentifier>()
        let blockBuffers = [residuals, ln1, ln1Mean, ln1Rstd, qkv, attentionOut, probs, residualMid,
                            ln2, ln2Mean, ln2Rstd, fc, fcGelu].joined().filter { seen.insert(ObjectIdentifier($0)).inserted }
        let kept = blockBuffers.reduce(0) { $0 + $1.byteCount }
            + [lnf, lnfMean, lnfRstd, logits, probsOut, losses].reduce(0) { $0 + $1.byteCount }
            + 2 * B * T * MemoryLayout<Int32>.stride
        let scratch = [dResidual, dLayerInput, dAttentionOut, dQKV, dFC, dScores, droppedScores, projected]
            .reduce(0) { $0 + $1.byteCount }
        return (kept, scratch)
    }
}
