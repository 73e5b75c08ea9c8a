// Which tensors a variant changed most: for every quantizable tensor, the relative squared error of
// its stored weights against the fp32 base's, ‖W − Ŵ‖² / ‖W‖² (summed in Double over every weight,
// each stored row dequantized with its format's reference dequantization). The Compare screen shows
// it for the selected variant.

/// One tensor's stored format and weight error against the base.
public struct TensorError: Equatable, Sendable {
    public var tensor: String
    public var format: WeightFormat
    /// ‖W − Ŵ‖² / ‖W‖² (0 for an unchanged tensor).
    public var relativeError: Double

    public init(tensor: String, format: WeightFormat, relativeError: Double) {
        self.tensor = tensor
        self.format = format
        self.relativeError = relativeError
    }
}

public enum TensorErrors {
    /// The error of every quantizable tensor of `variant` against `base` (fp32 weights of the same shape), in layout order.
    public static func measure(base: LoadedModel, variant: LoadedModel) throws -> [TensorError] {
        guard let model = base.floatModel else {
            throw WhittleError.config("\(base.source) is not an fp32 model, so there are no exact weights to measure \(variant.source) against",
                                      hint: "compare against the fp32 model the variant was made from")
        }
        guard model.layout.dimensions == variant.weights.layout.dimensions else {
            throw WhittleError.config("\(variant.source) and \(base.source) have different shapes; their tensors cannot be compared one by one",
                                      hint: "measure a variant against the model it was made from")
        }
        return try withExtendedLifetime((base, variant)) {
            try model.layout.tensors.filter(QuantizationPlan.isQuantizable).map { tensor in
                guard let operand = Variant.operand(of: tensor, in: variant.weights) else {
                    throw WhittleError.file("\(variant.source) has no stored \(tensor.name)", hint: "the weights file is damaged")
                }
                let values = model.parameters.pointer + tensor.offset
                return TensorError(tensor: tensor.name, format: operand.format,
                                   relativeError: relativeError(values, tensor: tensor, operand))
            }
        }
    }

    /// ‖W − Ŵ‖² / ‖W‖² of the fp32 `values` (laid out as `tensor`) against the stored operand.
    static func relativeError(_ values: UnsafePointer<Float>, tensor: ParameterTensor, _ operand: WeightOperand) -> Double {
        let (K, M) = (operand.inputs, operand.outputs)
        // The base's value of weight (input k, output o) in its own orientation.
        func original(_ k: Int, _ o: Int) -> Float {
            tensor.orientation == .inputMajor ? values[k * M + o] : values[o * K + k]
        }
        let rowLength = operand.orientation == .outputMajor ? K : M
        let rows = operand.orientation == .outputMajor ? M : K
        let rowBytes = operand.format.rowBytes(rowLength)!
        var error = 0.0, norm = 0.0
        withUnsafeTemporaryAllocation(of: Float.self, capacity: rowLength) { row in
            for r in 0..<rows {
                operand.format.dequantizeRow(operand.base + r * rowBytes, into: row.baseAddress!, count: rowLength)
                for i in 0..<rowLength {
                    let w = operand.orientation == .outputMajor ? original(i, r) : original(r, i)
                    let d = Double(w) - Double(row[i])
                    error += d * d
                    norm += Double(w) * Double(w)
                }
            }
        }
        return norm > 0 ? error / norm : 0
    }
}
