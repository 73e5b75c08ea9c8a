// Every activation a training step keeps for backward, plus the backward scratch, allocated
// once for a (batch, context) shape. One arena per worker; the hot loop allocates nothing.
// With activation checkpointing, the checkpointed blocks share one set of block buffers: forward
// keeps only their inputs (the residual stream) and backward recomputes the rest block by block.
// In a bf16/fp16 arena everything backward reads is kept in 16 bits (`half`); the fp32 block buffers
// it replaces are left empty, and the residual stream itself stays fp32 (as under PyTorch's autocast).

/// Activation and scratch buffers for one worker at batch size B and sequence length T.
public final class ActivationArena: @unchecked Sendable {
    public let dimensions: GPTDimensions
    public let B: Int
    public let T: Int
    /// Checkpointing interval: 0 keeps every block's activations; k recomputes blocks l with l % k == 0.
    public let checkpointEvery: Int
    /// Storage format of the kept activations and matmul inputs.
    public let precision: Precision
    /// The 16-bit activations and scratch of a bf16/fp16 arena; nil in fp32.
    public let half: HalfActivations?
    /// Nonzero gradient values that became zero when rounded to 16 bits, since the counter was last reset.
    public var flushedGradients = 0

    // Forward activations (index l = layer).
    public let residuals: [FloatBuffer]    // x_0 ... x_L, each [B,T,C]
    public let ln1: [FloatBuffer], ln1Mean: [FloatBuffer], ln1Rstd: [FloatBuffer]
    public let qkv: [FloatBuffer]          // [B,T,3C]
    public let attentionOut: [FloatBuffer] // [B,T,C], before c_proj
    public let probs: [FloatBuffer]        // [B,NH,T,T]
    public let residualMid: [FloatBuffer]  // x_l + attention, [B,T,C] (16-bit arenas: one shared fp32 scratch)
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
    /// `precision` bf16 or fp16 keeps the activations backward reads in 16 bits (see `HalfActivations`).
    public init(dimensions d: GPTDimensions, B: Int, T: Int, supportsDropout: Bool = false, checkpointEvery: Int = 0,
                precision: Precision = .fp32) {
        dimensions = d
        self.B = B
        self.T = T
        self.checkpointEvery = max(0, checkpointEvery)
        self.precision = precision
        let btc = B * T * d.C, bt = B * T
        let checkpointed = (0..<d.L).map { checkpointEvery > 0 && $0 % checkpointEvery == 0 }
        /// One buffer per block, except that checkpointed blocks all share `shared`.
        func perBlock(_ size: Int) -> [FloatBuffer] {
            let shared = checkpointed.contains(true) ? FloatBuffer(count: size) : nil
            return checkpointed.map { $0 ? shared! : FloatBuffer(count: size) }
        }
        /// fp32 block buffers that a 16-bit arena keeps in `half` instead: empty there.
        let empty = FloatBuffer(count: 0)
        func fp32Only(_ size: Int) -> [FloatBuffer] {
            precision.isHalf ? Array(repeating: empty, count: d.L) : perBlock(size)
        }
        residuals = (0...d.L).map { _ in FloatBuffer(count: btc) }
        ln1 = fp32Only(btc); ln1Mean = perBlock(bt); ln1Rstd = perBlock(bt)
        qkv = fp32Only(3 * btc)
        attentionOut = fp32Only(btc)
        probs = fp32Only(B * d.NH * T * T)
        if precision.isHalf {
            let scratch = FloatBuffer(count: btc)
            residualMid = Array(repeating: scratch, count: d.L)
        } else {
            residualMid = perBlock(btc)
        }
        ln2 = fp32Only(btc); ln2Mean = perBlock(bt); ln2Rstd = perBlock(bt)
        fc = fp32Only(4 * btc)
        fcGelu = fp32Only(4 * btc)
        lnf = precision.isHalf ? empty : FloatBuffer(count: btc)
        lnfMean = FloatBuffer(count: bt); lnfRstd = FloatBuffer(count: bt)
        half = precision.isHalf
            ? HalfActivations(dimensions: d, B: B, T: T, checkpointed: checkpointed, supportsDropout: supportsDropout,
                              precision: precision)
            : nil
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
                                  checkpointEvery: Int = 0, precision: Precision = .fp32) -> (activations: Int, scratch: Int) {
        let float = MemoryLayout<Float>.stride, half = 2
        let btc = B * T * d.C, bt = B * T, L = d.L
        // Per block, in values: what fp32 keeps (or, in 16 bits, the 16-bit copies) and the fp32 statistics.
        let blockValues = btc       // ln1
            + 3 * btc               // qkv
            + btc                   // attentionOut
            + B * d.NH * T * T      // probs
            + btc                   // residualMid (16-bit arenas: its 16-bit copy)
            + btc                   // ln2
            + 4 * btc + 4 * btc     // fc (gelu'), fcGelu
        let blockStatistics = 4 * bt  // ln1Mean, ln1Rstd, ln2Mean, ln2Rstd
        let checkpointed = checkpointEvery > 0 ? (0..<L).filter { $0 % checkpointEvery == 0 }.count : 0
        let blockSets = L - checkpointed + (checkpointed > 0 ? 1 : 0)
        let width = precision.isHalf ? half : float
        let kept = (L + 1) * btc * float + blockSets * (blockValues * width + blockStatistics * float)
            + btc * width + 2 * bt * float        // lnf, lnfMean, lnfRstd
            + 2 * bt * d.V * float                // logits, probsOut
            + bt * float                          // losses
            + 2 * bt * MemoryLayout<Int32>.stride // tokens, targets
        var scratch = (3 * btc + 3 * btc + 4 * btc + T * T + (supportsDropout ? T * T + btc : 0)) * float
        if precision.isHalf {
            scratch += btc * float                // the shared fp32 residualMid
            scratch += HalfActivations.scratchBytes(dimensions: d, B: B, T: T, supportsDropout: supportsDropout,
                                                    precision: precision)
        }
        return (kept, scratch)
    }

    /// Exact bytes held, split into what forward keeps for backward and backward's scratch.
    public var byteCounts: (activations: Int, scratch: Int) {
        // Shared (checkpointed) block buffers are counted once.
        var seen = Set<ObjectIdentifier>()
        func unique(_ buffers: [FloatBuffer]) -> [FloatBuffer] { buffers.filter { seen.insert(ObjectIdentifier($0)).inserted } }
        let keptBlocks = [residuals, ln1, ln1Mean, ln1Rstd, qkv, attentionOut, probs, ln2, ln2Mean, ln2Rstd, fc, fcGelu]
        var kept = unique(Array(keptBlocks.joined())).reduce(0) { $0 + $1.byteCount }
            + [lnf, lnfMean, lnfRstd, logits, probsOut, losses].reduce(0) { $0 + $1.byteCount }
            + 2 * B * T * MemoryLayout<Int32>.stride
        var scratch = [dResidual, dLayerInput, dAttentionOut, dQKV, dFC, dScores, droppedScores, projected]
            .reduce(0) { $0 + $1.byteCount }
        // In fp32 the block's residualMid is kept for backward; in 16 bits it is one shared scratch.
        let mid = unique(residualMid).reduce(0) { $0 + $1.byteCount }
        if let half {
            kept += half.keptByteCount
            scratch += mid + half.scratchByteCount
        } else {
            kept += mid
        }
        return (kept, scratch)
    }
}
