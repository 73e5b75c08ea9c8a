// A model's weights stored tensor by tensor in chosen formats: one aligned byte buffer and a tensor
// table (format, orientation, byte offset per tensor). This is what a compressed variant holds in
// memory; its `weights` run on the same forward pass as the fp32 training arena. Matrices stored in
// a format other than f32 are output-major (GGUF's `[out, in]` rows, see docs/DECISIONS.md);
// vectors (LayerNorms, biases) and the position table stay f32. A store is made by quantizing an fp32
// arena, or from tensors already encoded in their formats (a GGUF file, `GPT2GGUF.read`).

/// Weights in per-tensor formats, made from an fp32 parameter arena or from already-encoded tensors.
public final class WeightStore: @unchecked Sendable {
    /// The fp32 model's table (names, roles, dimensions).
    public let layout: ParameterLayout
    /// The stored tensors, in `layout`'s order: shapes as stored (`[out, in]` for output-major matrices).
    public let tensors: [ParameterTensor]
    /// Bytes of tensor data (each tensor starts on an `alignment` boundary).
    public let byteCount: Int
    private let bytes: UnsafeMutableRawPointer

    /// Tensor data alignment, as in GGUF files.
    public static let alignment = 32

    /// Quantizes `parameters` (laid out by `layout`) with each matrix's and the token embedding's format
    /// from `format`. Formats must fit the tensor (`WeightFormat.rowBytes` of its reduction length).
    public init(layout: ParameterLayout, parameters: UnsafePointer<Float>, format: (ParameterTensor) -> WeightFormat) {
        self.layout = layout
        var table: [ParameterTensor] = []
        var offset = 0
        for tensor in layout.tensors {
            let chosen = tensor.role == .tokenEmbedding || tensor.role.isLinearWeight ? format(tensor) : .f32
            let outputMajor = chosen != .f32 || tensor.orientation == .outputMajor
            let shape = tensor.orientation == .inputMajor && outputMajor ? [tensor.shape[1], tensor.shape[0]] : tensor.shape
            let orientation: Orientation = tensor.shape.count == 1 ? .vector : (outputMajor ? .outputMajor : .inputMajor)
            let rowLength = shape.last!
            guard let rowBytes = chosen.rowBytes(rowLength) else {
                preconditionFailure("\(tensor.name): rows of \(rowLength) are not whole \(chosen) blocks")
            }
            table.append(ParameterTensor(name: tensor.name, role: tensor.role, layer: tensor.layer, shape: shape,
                                         format: chosen, orientation: orientation, byteOffset: offset))
            offset += (tensor.count / rowLength * rowBytes + Self.alignment - 1) / Self.alignment * Self.alignment
        }
        tensors = table
        byteCount = offset
        bytes = .allocate(byteCount: max(offset, 1), alignment: 64)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: max(offset, 1))
        for (source, stored) in zip(layout.tensors, table) {
            Self.store(parameters + source.offset, from: source, as: stored, into: bytes + stored.byteOffset)
        }
    }

    /// A store of tensors already encoded (read from a file). `stored` gives, in `layout`'s order, each
    /// tensor's format and orientation (a matrix's shape is transposed for `.outputMajor`); `fill` writes
    /// each stored tensor's `byteCount` bytes at the pointer it is given (zeroed, aligned). The caller
    /// checks the formats first: rows of whole blocks, block formats output-major, vectors and the
    /// position table f32 (the forward pass reads them as floats).
    public init(layout: ParameterLayout, stored: [(format: WeightFormat, orientation: Orientation)],
                fill: (ParameterTensor, UnsafeMutableRawPointer) throws -> Void) rethrows {
        precondition(stored.count == layout.tensors.count, "one stored format per tensor of the layout")
        self.layout = layout
        var table: [ParameterTensor] = []
        var offset = 0
        for (tensor, choice) in zip(layout.tensors, stored) {
            let isMatrix = tensor.shape.count == 2
            let orientation = isMatrix ? choice.orientation : .vector
            precondition(isMatrix ? orientation != .vector : choice.format == .f32,
                         "\(tensor.name): vectors are f32, matrices have an orientation")
            precondition(tensor.role != .positionEmbedding || choice.format == .f32, "the position table is f32")
            precondition(!choice.format.isQuantized || orientation == .outputMajor, "\(tensor.name): block formats are output-major")
            let shape = isMatrix && orientation != tensor.orientation ? [tensor.shape[1], tensor.shape[0]] : tensor.shape
            let stored = ParameterTensor(name: tensor.name, role: tensor.role, layer: tensor.layer, shape: shape,
                                         format: choice.format, orientation: orientation, byteOffset: offset)
            precondition(choice.format.rowBytes(shape.last!) != nil, "\(tensor.name): rows are not whole \(choice.format) blocks")
            table.append(stored)
            offset += (stored.byteCount + Self.alignment - 1) / Self.alignment * Self.alignment
        }
        tensors = table
        byteCount = offset
        bytes = .allocate(byteCount: max(offset, 1), alignment: 64)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: max(offset, 1))
        for tensor in table { try fill(tensor, bytes + tensor.byteOffset) }
    }

    deinit { bytes.deallocate() }

    /// Writes one tensor's values in its stored format and orientation, row by row.
    private static func store(_ values: UnsafePointer<Float>, from source: ParameterTensor, as stored: ParameterTensor,
                              into destination: UnsafeMutableRawPointer) {
        let rowLength = stored.shape.last!, rows = stored.count / rowLength
        let rowBytes = stored.format.rowBytes(rowLength)!
        let transposed = source.orientation == .inputMajor && stored.orientation == .outputMajor
        withUnsafeTemporaryAllocation(of: Float.self, capacity: rowLength) { row in
            for r in 0..<rows {
                if transposed {
                    for k in 0..<rowLength { row[k] = values[k * rows + r] }
                } else {
                    row.baseAddress!.update(from: values + r * rowLength, count: rowLength)
                }
                stored.format.quantizeRow(row.baseAddress!, into: destination + r * rowBytes, count: rowLength)
            }
        }
    }

    /// Bytes of the stored matrices and vectors (without alignment padding): what the weights cost.
    public var payloadBytes: Int {
        tensors.reduce(0) { $0 + $1.count / $1.shape.last! * $1.format.rowBytes($1.shape.last!)! }
    }

    /// The stored bytes of one of `tensors` (valid while this store is alive).
    public func data(_ tensor: ParameterTensor) -> UnsafeRawPointer { UnsafeRawPointer(bytes + tensor.byteOffset) }

    /// The stored tensor called `name`.
    public func tensor(named name: String) -> ParameterTensor? { tensors.first { $0.name == name } }

    /// The weights as the forward pass reads them; valid while this store is alive.
    public var weights: ModelWeights {
        let d = layout.dimensions
        var index = 0
        func next() -> ParameterTensor { defer { index += 1 }; return tensors[index] }
        func floats(_ t: ParameterTensor) -> UnsafePointer<Float> {
            UnsafePointer((bytes + t.byteOffset).assumingMemoryBound(to: Float.self))
        }
        func matrix(_ t: ParameterTensor) -> WeightOperand {
            let (inputs, outputs) = t.orientation == .inputMajor ? (t.shape[0], t.shape[1]) : (t.shape[1], t.shape[0])
            return WeightOperand(format: t.format, orientation: t.orientation, inputs: inputs, outputs: outputs,
                                 base: UnsafeRawPointer(bytes + t.byteOffset))
        }
        func norm() -> NormWeights {
            let gain = floats(next())
            return NormWeights(gain: gain, bias: d.hasBias ? floats(next()) : nil)
        }
        func linear() -> LinearWeights {
            let weight = matrix(next())
            return LinearWeights(weight: weight, bias: d.hasBias ? floats(next()) : nil)
        }
        let embedding = matrix(next())
        let positions = floats(next())
        var blocks: [BlockWeights] = []
        for _ in 0..<d.L {
            let ln1 = norm(), qkv = linear(), projection = linear(), ln2 = norm(), up = linear(), down = linear()
            blocks.append(BlockWeights(ln1: ln1, qkv: qkv, attentionOutput: projection, ln2: ln2, mlpUp: up, mlpDown: down))
        }
        let final = norm()
        return ModelWeights(layout: layout, tokenEmbedding: embedding, positionEmbedding: positions, blocks: blocks,
                            finalNorm: final, head: embedding)
    }
}
