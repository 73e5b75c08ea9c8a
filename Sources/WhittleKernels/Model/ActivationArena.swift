// Every activation a training step keeps for backward, plus the backward scratch, allocated
// once for a (batch, context) shape. One arena per worker; the hot loop allocates nothing.
// Block buffers are sized by each block's own shape (heads, MLP width); shared scratch by the widest.
// With activation checkpointing, the checkpointed blocks share one set of block buffers: forward
// keeps only their inputs (the residual stream) and backward recomputes the rest block by block.
// In a bf16/fp16 arena everything backward reads is kept in 16 bits (`half`); the fp32 block buffers
// it replaces are left empty, and the residual stream itself stays fp32 (as under PyTorch's autocast).
// `ActivationArena+Views.swift` gives the passes each tensor in whichever precision it is kept.

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

    // Forward activations (index l = layer; A = the block's attention width, H its MLP width).
    public let residuals: [FloatBuffer]    // x_0 ... x_L, each [B,T,C]
    public let ln1: [FloatBuffer], ln1Mean: [FloatBuffer], ln1Rstd: [FloatBuffer]
    public let qkv: [FloatBuffer]          // [B,T,3A]
    public let attentionOut: [FloatBuffer] // [B,T,A], before c_proj
    public let probs: [FloatBuffer]        // [B,heads,T,T]
    public let residualMid: [FloatBuffer]  // x_l + attention, [B,T,C] (16-bit arenas: one shared fp32 scratch)
    public let ln2: [FloatBuffer], ln2Mean: [FloatBuffer], ln2Rstd: [FloatBuffer]
    public let fc: [FloatBuffer]           // [B,T,H] c_fc output, then (after GELU) gelu' of it
    public let fcGelu: [FloatBuffer]       // [B,T,H]
    public let lnf: FloatBuffer, lnfMean: FloatBuffer, lnfRstd: FloatBuffer
    public let logits: FloatBuffer         // [B,T,V]; reused for dlogits in backward
    public let probsOut: FloatBuffer       // [B,T,V] softmax of the logits
    public let losses: FloatBuffer         // [B,T]
    public let tokens: UnsafeMutablePointer<Int32>
    public let targets: UnsafeMutablePointer<Int32>

    // Backward scratch, reused by every layer (sized for the widest block).
    public let dResidual: FloatBuffer      // [B,T,C]
    public let dLayerInput: FloatBuffer    // [B,T,C]; also LayerNorm's fp32 staging in 16-bit arenas
    public let dAttentionOut: FloatBuffer  // [B,T,max(C, A)]
    public let dQKV: FloatBuffer           // [B,T,3A]
    public let dFC: FloatBuffer            // [B,T,H]; c_fc's fp32 output in 16-bit arenas
    public let dScores: FloatBuffer        // [T,T]
    public let droppedScores: FloatBuffer  // [T,T] attention probabilities after dropout (dropout only)
    public let projected: FloatBuffer      // [B,T,C] a residual branch before dropout, or its masked gradient
    /// Quantized activation rows for products with quantized weights (grown on first use; empty in training).
    public let quantizedInput = ByteScratch()

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
        let sizes = BlockSizes(dimensions: d, B: B, T: T, checkpointEvery: self.checkpointEvery)
        let btc = B * T * d.C, bt = B * T
        /// One buffer per block, except that checkpointed blocks all share one (sized for the largest of them).
        func perBlock(_ size: (Int) -> Int) -> [FloatBuffer] {
            let shared = sizes.sharedSize(size).map { FloatBuffer(count: $0) }
            return (0..<d.L).map { sizes.checkpointed[$0] ? shared! : FloatBuffer(count: size($0)) }
        }
        /// fp32 block buffers that a 16-bit arena keeps in `half` instead: empty there.
        let empty = FloatBuffer(count: 0)
        func fp32Only(_ size: (Int) -> Int) -> [FloatBuffer] {
            precision.isHalf ? Array(repeating: empty, count: d.L) : perBlock(size)
        }
        residuals = (0...d.L).map { _ in FloatBuffer(count: btc) }
        ln1 = fp32Only(sizes.model); ln1Mean = perBlock(sizes.row); ln1Rstd = perBlock(sizes.row)
        qkv = fp32Only(sizes.qkv)
        attentionOut = fp32Only(sizes.attention)
        probs = fp32Only(sizes.probabilities)
        if precision.isHalf {
            let scratch = FloatBuffer(count: btc)
            residualMid = Array(repeating: scratch, count: d.L)
        } else {
            residualMid = perBlock(sizes.model)
        }
        ln2 = fp32Only(sizes.model); ln2Mean = perBlock(sizes.row); ln2Rstd = perBlock(sizes.row)
        fc = fp32Only(sizes.hidden)
        fcGelu = fp32Only(sizes.hidden)
        lnf = precision.isHalf ? empty : FloatBuffer(count: btc)
        lnfMean = FloatBuffer(count: bt); lnfRstd = FloatBuffer(count: bt)
        half = precision.isHalf
            ? HalfActivations(sizes: sizes, supportsDropout: supportsDropout, precision: precision)
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
        dAttentionOut = FloatBuffer(count: bt * max(d.C, d.maxAttentionWidth))
        dQKV = FloatBuffer(count: 3 * bt * d.maxAttentionWidth)
        dFC = FloatBuffer(count: bt * d.maxHiddenWidth)
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
        let float = MemoryLayout<Float>.stride
        let sizes = BlockSizes(dimensions: d, B: B, T: T, checkpointEvery: max(0, checkpointEvery))
        let btc = B * T * d.C, bt = B * T
        let width = precision.isHalf ? 2 : float
        // Per block, in values: what fp32 keeps (or, in 16 bits, the 16-bit copies) and the fp32 statistics.
        let values = sizes.total(sizes.model) * 3   // ln1, residualMid (16-bit arenas: its 16-bit copy), ln2
            + sizes.total(sizes.qkv) + sizes.total(sizes.attention) + sizes.total(sizes.probabilities)
            + 2 * sizes.total(sizes.hidden)           // fc (gelu'), fcGelu
        let statistics = 4 * sizes.total(sizes.row)   // ln1Mean, ln1Rstd, ln2Mean, ln2Rstd
        let kept = (d.L + 1) * btc * float + values * width + statistics * float
            + btc * width + 2 * bt * float        // lnf, lnfMean, lnfRstd
            + 2 * bt * d.V * float                // logits, probsOut
            + bt * float                          // losses
            + 2 * bt * MemoryLayout<Int32>.stride // tokens, targets
        let A = d.maxAttentionWidth, H = d.maxHiddenWidth
        var scratch = (2 * btc + bt * max(d.C, A) + 3 * bt * A + bt * H + T * T
                       + (supportsDropout ? T * T + btc : 0)) * float
        if precision.isHalf {
            scratch += btc * float                // the shared fp32 residualMid
            scratch += HalfActivations.scratchBytes(sizes: sizes, supportsDropout: supportsDropout, precision: precision)
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

/// Element counts of each kind of per-block buffer, by layer, and which layers share the checkpoint set.
struct BlockSizes {
    let dimensions: GPTDimensions
    let B: Int, T: Int
    let checkpointed: [Bool]

    init(dimensions d: GPTDimensions, B: Int, T: Int, checkpointEvery: Int) {
        dimensions = d
        self.B = B
        self.T = T
        checkpointed = (0..<d.L).map { checkpointEvery > 0 && $0 % checkpointEvery == 0 }
    }

    func model(_ l: Int) -> Int { B * T * dimensions.C }
    func row(_ l: Int) -> Int { B * T }
    func qkv(_ l: Int) -> Int { 3 * B * T * dimensions.attentionWidth(l) }
    func attention(_ l: Int) -> Int { B * T * dimensions.attentionWidth(l) }
    func probabilities(_ l: Int) -> Int { B * dimensions.layers[l].heads * T * T }
    func hidden(_ l: Int) -> Int { B * T * dimensions.layers[l].hiddenWidth }

    /// The shared checkpoint buffer's size for this kind (the largest checkpointed block's), or nil without checkpointing.
    func sharedSize(_ size: (Int) -> Int) -> Int? {
        let layers = checkpointed.indices.filter { checkpointed[$0] }
        return layers.isEmpty ? nil : layers.map(size).max()!
    }

    /// Elements over all distinct buffers of this kind (the shared one counted once).
    func total(_ size: (Int) -> Int) -> Int {
        checkpointed.indices.filter { !checkpointed[$0] }.reduce(0) { $0 + size($1) } + (sharedSize(size) ?? 0)
    }
}
