// The parameter arena's table of contents: every tensor's GPT-2 name, shape and offset in one
// contiguous Float buffer. Gradients, optimizer moments and checkpoints share this layout, so an
// optimizer step is one loop and every pass over "all weights" walks the same table.

/// One named tensor inside the parameter arena.
public struct ParameterTensor: Equatable, Sendable {
    /// Hugging Face GPT-2 name without the `transformer.` prefix, e.g. `h.0.attn.c_attn.weight`.
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
    /// Whether optimizers apply weight decay (tensors with at least two dimensions, as in nanoGPT).
    public var decays: Bool { shape.count >= 2 }
}

/// Offsets of one transformer block's tensors.
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
        wte = add("wte.weight", [d.V, C])
        wpe = add("wpe.weight", [d.maxT, C])
        for l in 0..<d.L {
            var block = BlockOffsets()
            let p = "h.\(l)."
            block.ln1Weight = add(p + "ln_1.weight", [C])
            block.ln1Bias = d.hasBias ? add(p + "ln_1.bias", [C]) : nil
            block.attnWeight = add(p + "attn.c_attn.weight", [C, 3 * C])
            block.attnBias = d.hasBias ? add(p + "attn.c_attn.bias", [3 * C]) : nil
            block.projWeight = add(p + "attn.c_proj.weight", [C, C])
            block.projBias = d.hasBias ? add(p + "attn.c_proj.bias", [C]) : nil
            block.ln2Weight = add(p + "ln_2.weight", [C])
            block.ln2Bias = d.hasBias ? add(p + "ln_2.bias", [C]) : nil
            block.fcWeight = add(p + "mlp.c_fc.weight", [C, 4 * C])
            block.fcBias = d.hasBias ? add(p + "mlp.c_fc.bias", [4 * C]) : nil
            block.fcProjWeight = add(p + "mlp.c_proj.weight", [4 * C, C])
            block.fcProjBias = d.hasBias ? add(p + "mlp.c_proj.bias", [C]) : nil
            blocks.append(block)
        }
        lnfWeight = add("ln_f.weight", [C])
        lnfBias = d.hasBias ? add("ln_f.bias", [C]) : nil
    }

    private mutating func add(_ name: String, _ shape: [Int]) -> Int {
        let offset = totalCount
        let tensor = ParameterTensor(name: name, shape: shape, offset: offset)
        tensors.append(tensor)
        totalCount += tensor.count
        return offset
    }

    public func tensor(named name: String) -> ParameterTensor? { tensors.first { $0.name == name } }

    /// Parameters excluding the position table (the count nanoGPT reports and MFU uses).
    public var nonEmbeddingCount: Int { totalCount - dimensions.maxT * dimensions.C }
}
