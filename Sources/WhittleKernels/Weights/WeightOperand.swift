// What the one forward pass reads its weights through. A `WeightOperand` is a matrix in any
// `WeightFormat` and either orientation; `ModelWeights` gathers one model's operands (plus the
// fp32 vectors: LayerNorm gains, biases, the position table) so that training (fp32 and 16-bit),
// evaluation and the KV-cached decoder all run `GPT.forward` over whatever the weights are stored in.

/// A weight matrix as a product reads it: y[n, o] = Σ_k x[n, k] · W(k, o), K inputs and M outputs.
public struct WeightOperand: @unchecked Sendable {
    public let format: WeightFormat
    /// `.inputMajor` ([K, M], Hugging Face's Conv1D) or `.outputMajor` ([M, K], rows of K contiguous).
    public let orientation: Orientation
    /// Reduction length K.
    public let inputs: Int
    /// Output count M.
    public let outputs: Int
    public let base: UnsafeRawPointer

    public init(format: WeightFormat, orientation: Orientation, inputs: Int, outputs: Int, base: UnsafeRawPointer) {
        precondition(orientation != .vector, "a weight operand is a matrix")
        precondition(!format.isQuantized || orientation == .outputMajor,
                     "\(format) matrices are stored output-major (scales run along the reduction axis)")
        precondition(format.rowBytes(inputs) != nil, "\(inputs) inputs is not a whole number of \(format) blocks")
        self.format = format
        self.orientation = orientation
        self.inputs = inputs
        self.outputs = outputs
        self.base = base
    }

    /// An fp32 matrix.
    public init(_ pointer: UnsafePointer<Float>, orientation: Orientation, inputs: Int, outputs: Int) {
        self.init(format: .f32, orientation: orientation, inputs: inputs, outputs: outputs, base: UnsafeRawPointer(pointer))
    }

    /// fp32 values (format `.f32` only).
    @inline(__always) public var floats: UnsafePointer<Float> { base.assumingMemoryBound(to: Float.self) }
    /// 16-bit bit patterns (formats `.f16` and `.bf16`).
    @inline(__always) public var halves: UnsafePointer<UInt16> { base.assumingMemoryBound(to: UInt16.self) }
    /// Row stride of an output-major operand in bytes.
    @inline(__always) public var rowBytes: Int { format.rowBytes(inputs)! }
    /// Leading dimension, in elements, of a scalar-format operand as a row-major matrix.
    @inline(__always) var leadingDimension: Int { orientation == .inputMajor ? outputs : inputs }
}

/// A LayerNorm's gain and (optional) bias, fp32.
public struct NormWeights: @unchecked Sendable {
    public let gain: UnsafePointer<Float>
    public let bias: UnsafePointer<Float>?
}

/// A linear layer: its matrix and (optional) fp32 bias of `weight.outputs` values.
public struct LinearWeights: @unchecked Sendable {
    public let weight: WeightOperand
    public let bias: UnsafePointer<Float>?
}

/// One block's weights.
public struct BlockWeights: @unchecked Sendable {
    public let ln1: NormWeights
    public let qkv: LinearWeights
    public let attentionOutput: LinearWeights
    public let ln2: NormWeights
    public let mlpUp: LinearWeights
    public let mlpDown: LinearWeights
}

/// Every weight of one model, as the forward and backward passes read them.
public struct ModelWeights: @unchecked Sendable {
    /// The model's fp32 tensor table: its dimensions, and the offsets backward writes gradients at.
    public let layout: ParameterLayout
    /// `wte` rows for the embedding lookup ([V, C], output-major).
    public let tokenEmbedding: WeightOperand
    /// `wpe`, [maxT, C] fp32.
    public let positionEmbedding: UnsafePointer<Float>
    public let blocks: [BlockWeights]
    public let finalNorm: NormWeights
    /// The tied LM head (`wte` as a C → V product; a 16-bit copy in mixed-precision training).
    public let head: WeightOperand

    public var dimensions: GPTDimensions { layout.dimensions }

    /// The training arena: fp32 `parameters` laid out by `layout`; with `halfCopy` (the same values
    /// rounded to `precision`, at the same element offsets), every product reads the 16-bit copy.
    public init(layout: ParameterLayout, parameters p: UnsafePointer<Float>, halfCopy: UnsafePointer<UInt16>? = nil,
                precision: Precision = .fp32) {
        precondition((halfCopy != nil) == precision.isHalf, "a 16-bit run needs the 16-bit copy of its weights")
        let d = layout.dimensions
        let format = WeightFormat(precision)
        func matrix(_ offset: Int, _ orientation: Orientation, inputs: Int, outputs: Int) -> WeightOperand {
            if let halfCopy {
                // Row-major [K, M] 16-bit matrices: products transpose them as the fp32 path does.
                return WeightOperand(format: format, orientation: orientation, inputs: inputs, outputs: outputs,
                                     base: UnsafeRawPointer(halfCopy + offset))
            }
            return WeightOperand(p + offset, orientation: orientation, inputs: inputs, outputs: outputs)
        }
        func linear(_ weight: Int, _ bias: Int?, inputs: Int, outputs: Int) -> LinearWeights {
            LinearWeights(weight: matrix(weight, .inputMajor, inputs: inputs, outputs: outputs), bias: bias.map { p + $0 })
        }
        func norm(_ gain: Int, _ bias: Int?) -> NormWeights { NormWeights(gain: p + gain, bias: bias.map { p + $0 }) }
        self.layout = layout
        tokenEmbedding = WeightOperand(p + layout.wte, orientation: .outputMajor, inputs: d.C, outputs: d.V)
        positionEmbedding = p + layout.wpe
        blocks = layout.blocks.enumerated().map { l, o in
            let A = d.attentionWidth(l), H = d.layers[l].hiddenWidth
            return BlockWeights(ln1: norm(o.ln1Weight, o.ln1Bias),
                                qkv: linear(o.attnWeight, o.attnBias, inputs: d.C, outputs: 3 * A),
                                attentionOutput: linear(o.projWeight, o.projBias, inputs: A, outputs: d.C),
                                ln2: norm(o.ln2Weight, o.ln2Bias),
                                mlpUp: linear(o.fcWeight, o.fcBias, inputs: d.C, outputs: H),
                                mlpDown: linear(o.fcProjWeight, o.fcProjBias, inputs: H, outputs: d.C))
        }
        finalNorm = norm(layout.lnfWeight, layout.lnfBias)
        head = matrix(layout.wte, .outputMajor, inputs: d.C, outputs: d.V)
    }

    /// Weights from explicit parts (a quantized store builds them so).
    public init(layout: ParameterLayout, tokenEmbedding: WeightOperand, positionEmbedding: UnsafePointer<Float>,
                blocks: [BlockWeights], finalNorm: NormWeights, head: WeightOperand) {
        self.layout = layout
        self.tokenEmbedding = tokenEmbedding
        self.positionEmbedding = positionEmbedding
        self.blocks = blocks
        self.finalNorm = finalNorm
        self.head = head
    }

    /// Whether every product reads fp32 weights (the reference kernel path runs only then).
    public var isAllFloat: Bool {
        head.format == .f32 && tokenEmbedding.format == .f32 && blocks.allSatisfy { b in
            [b.qkv, b.attentionOutput, b.mlpUp, b.mlpDown].allSatisfy { $0.weight.format == .f32 }
        }
    }
}
