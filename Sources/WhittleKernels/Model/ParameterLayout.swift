// The tensor table: every tensor's GPT-2 name, role, shape, storage format, orientation and place
// in one contiguous Float buffer (the parameter arena). Gradients, optimizer moments, checkpoints,
// the memory ledger and (next) quantizers and pruners walk this one table, so an optimizer step is
// one loop and nothing finds a tensor's purpose by matching its name.

/// Where a LayerNorm sits.
public enum NormSite: Equatable, Hashable, Sendable {
    /// `ln_1`, before attention.
    case attention
    /// `ln_2`, before the MLP.
    case mlp
    /// `ln_f`, after the last block.
    case final
}

/// Which linear layer of a block a matrix belongs to.
public enum LinearSite: Equatable, Hashable, Sendable, CaseIterable {
    /// `attn.c_attn`: C → 3A (queries, keys, values).
    case qkv
    /// `attn.c_proj`: A → C.
    case attentionOutput
    /// `mlp.c_fc`: C → H.
    case mlpUp
    /// `mlp.c_proj`: H → C.
    case mlpDown
}

/// What a tensor does in the model.
public enum TensorRole: Equatable, Hashable, Sendable {
    /// `wte`, [V, C]: token embedding, also the tied LM head.
    case tokenEmbedding
    /// `wpe`, [maxT, C].
    case positionEmbedding
    case normGain(NormSite)
    case normBias(NormSite)
    case weight(LinearSite)
    case bias(LinearSite)

    /// Whether quantizers and pruners act on it by default (matrices; embeddings only when asked).
    public var isLinearWeight: Bool {
        if case .weight = self { return true }
        return false
    }
}

/// How a matrix is laid out in memory.
public enum Orientation: Equatable, Hashable, Sendable {
    /// A vector (1-D tensor).
    case vector
    /// `[in, out]`: Hugging Face's Conv1D layout (y = x·W); the training arena stores linear weights so.
    case inputMajor
    /// `[out, in]`: each output's weights contiguous (the reduction axis). Embedding rows, and every
    /// quantized matrix (GGUF rows), are stored so (see docs/DECISIONS.md).
    case outputMajor
}

/// One named tensor inside the parameter arena.
public struct ParameterTensor: Equatable, Sendable {
    /// Hugging Face GPT-2 name without the `transformer.` prefix, e.g. `h.0.attn.c_attn.weight`.
    public let name: String
    public let role: TensorRole
    /// The block it belongs to; nil for embeddings and the final LayerNorm.
    public let layer: Int?
    /// Shape as stored (for a matrix: `[in, out]` when `.inputMajor`, `[out, in]` when `.outputMajor`).
    public let shape: [Int]
    /// Storage format (the training arena is f32 throughout).
    public let format: WeightFormat
    public let orientation: Orientation
    /// Byte offset of the tensor's data in its table's storage.
    public let byteOffset: Int
    /// Element offset in the Float arena (and in gradients and optimizer moments, which share its
    /// layout); meaningful in an all-f32 table such as `ParameterLayout`'s.
    public var offset: Int { byteOffset / MemoryLayout<Float>.stride }
    public var count: Int { shape.reduce(1, *) }
    /// Bytes of its data in `format` (rows along the last dimension, whole blocks).
    public var byteCount: Int { byteCount(as: format) }
    /// Bytes its data would take stored in `other`.
    public func byteCount(as other: WeightFormat) -> Int {
        let rowLength = shape.last ?? 1
        return count / rowLength * (other.rowBytes(rowLength) ?? rowLength * other.traits.bytesPerBlock)
    }
    /// Whether optimizers apply weight decay (tensors with at least two dimensions, as in nanoGPT).
    public var decays: Bool { shape.count >= 2 }
}

/// Offsets of one transformer block's tensors in the Float arena.
public struct BlockOffsets: Equatable, Sendable {
    public var ln1Weight = 0, ln1Bias: Int? = nil
    public var attnWeight = 0, attnBias: Int? = nil
    public var projWeight = 0, projBias: Int? = nil
    public var ln2Weight = 0, ln2Bias: Int? = nil
    public var fcWeight = 0, fcBias: Int? = nil
    public var fcProjWeight = 0, fcProjBias: Int? = nil
}

/// The ordered tensors of a GPT-2 model and their offsets.
public struct ParameterLayout: Equatable, Sendable {
    public let dimensions: GPTDimensions
    public private(set) var tensors: [ParameterTensor] = []
    public private(set) var totalCount = 0
    public private(set) var wte = 0
    public private(set) var wpe = 0
    public private(set) var blocks: [BlockOffsets] = []
    public private(set) var lnfWeight = 0
    public private(set) var lnfBias: Int? = nil

    public init(_ d: GPTDimensions) {
        dimensions = d
        let C = d.C
        wte = add("wte.weight", .tokenEmbedding, nil, [d.V, C], .outputMajor)
        wpe = add("wpe.weight", .positionEmbedding, nil, [d.maxT, C], .outputMajor)
        for l in 0..<d.L {
            let A = d.attentionWidth(l), H = d.layers[l].hiddenWidth
            var block = BlockOffsets()
            let p = "h.\(l)."
            func vector(_ name: String, _ role: TensorRole, _ n: Int) -> Int { add(p + name, role, l, [n], .vector) }
            func matrix(_ name: String, _ site: LinearSite, _ n: Int, _ m: Int) -> Int {
                add(p + name, .weight(site), l, [n, m], .inputMajor)
            }
            block.ln1Weight = vector("ln_1.weight", .normGain(.attention), C)
            block.ln1Bias = d.hasBias ? vector("ln_1.bias", .normBias(.attention), C) : nil
            block.attnWeight = matrix("attn.c_attn.weight", .qkv, C, 3 * A)
            block.attnBias = d.hasBias ? vector("attn.c_attn.bias", .bias(.qkv), 3 * A) : nil
            block.projWeight = matrix("attn.c_proj.weight", .attentionOutput, A, C)
            block.projBias = d.hasBias ? vector("attn.c_proj.bias", .bias(.attentionOutput), C) : nil
            block.ln2Weight = vector("ln_2.weight", .normGain(.mlp), C)
            block.ln2Bias = d.hasBias ? vector("ln_2.bias", .normBias(.mlp), C) : nil
            block.fcWeight = matrix("mlp.c_fc.weight", .mlpUp, C, H)
            block.fcBias = d.hasBias ? vector("mlp.c_fc.bias", .bias(.mlpUp), H) : nil
            block.fcProjWeight = matrix("mlp.c_proj.weight", .mlpDown, H, C)
            block.fcProjBias = d.hasBias ? vector("mlp.c_proj.bias", .bias(.mlpDown), C) : nil
            blocks.append(block)
        }
        lnfWeight = add("ln_f.weight", .normGain(.final), nil, [C], .vector)
        lnfBias = d.hasBias ? add("ln_f.bias", .normBias(.final), nil, [C], .vector) : nil
    }

    private mutating func add(_ name: String, _ role: TensorRole, _ layer: Int?, _ shape: [Int],
                              _ orientation: Orientation) -> Int {
        let offset = totalCount
        let tensor = ParameterTensor(name: name, role: role, layer: layer, shape: shape, format: .f32,
                                     orientation: orientation, byteOffset: offset * MemoryLayout<Float>.stride)
        tensors.append(tensor)
        totalCount += tensor.count
        return offset
    }

    public func tensor(named name: String) -> ParameterTensor? { tensors.first { $0.name == name } }

    /// Bytes of every tensor in its own format (the arena: 4 per parameter).
    public var byteCount: Int { tensors.reduce(0) { $0 + $1.byteCount } }

    /// Bytes of every tensor stored in `format` (e.g. the 16-bit copy mixed precision keeps).
    public func byteCount(as format: WeightFormat) -> Int { tensors.reduce(0) { $0 + $1.byteCount(as: format) } }

    /// Parameters excluding the position table (the count nanoGPT reports and MFU uses).
    public var nonEmbeddingCount: Int { totalCount - dimensions.maxT * dimensions.C }
}
