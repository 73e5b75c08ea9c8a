// Opening a variant directory as a model: its lineage (`Variant.load`) and its weights
// (`LoadedModel.load`), checked against each other — every tensor of the plan exists and is stored
// in the planned type, and the weights file is the one `variant.json` names with the recorded size —
// so a lineage can never describe weights other than the ones that run.

extension Variant {
    /// Loads the variant in `directory` and its weights, and checks that they agree (`.invalidFile` if not).
    public static func open(_ directory: String) throws -> (variant: Variant, model: LoadedModel) {
        let variant = try load(directory)
        let model = try LoadedModel.load(directory)
        try variant.check(model)
        return (variant, model)
    }

    /// Throws `.invalidFile` naming the first disagreement between this lineage and `model`'s weights.
    public func check(_ model: LoadedModel) throws {
        let source = model.source + "/" + Self.fileName
        guard model.weightsFile.hasSuffix("/" + weightsFile), model.weightsFileBytes == weightsFileBytes else {
            throw WhittleError.file("\(source) describes \(weightsFile) of \(weightsFileBytes) bytes, but the weights are \(model.weightsFile) of \(model.weightsFileBytes) bytes",
                                    hint: Self.damagedHint)
        }
        let stored = Self.storedFormats(model.weights)
        guard plan.count == stored.count else {
            throw WhittleError.file("\(source) plans \(plan.count) tensors; the model has \(stored.count) quantizable tensors", hint: Self.damagedHint)
        }
        for entry in plan {
            guard let format = stored.first(where: { $0.name == entry.tensor })?.format else {
                throw WhittleError.file("\(source) plans tensor '\(entry.tensor)', which the model does not have", hint: Self.damagedHint)
            }
            guard format == entry.format else {
                throw WhittleError.file("\(source) plans \(entry.tensor) as \(entry.format), but it is stored as \(format)", hint: Self.damagedHint)
            }
        }
    }

    /// The stored format of every quantizable tensor (matrices, token embedding), by Whittle name.
    static func storedFormats(_ weights: ModelWeights) -> [(name: String, format: WeightFormat)] {
        weights.layout.tensors.filter(QuantizationPlan.isQuantizable).compactMap { tensor in
            operand(of: tensor, in: weights).map { (tensor.name, $0.format) }
        }
    }

    /// The operand the forward pass reads for a quantizable tensor (a matrix or the token embedding).
    static func operand(of tensor: ParameterTensor, in weights: ModelWeights) -> WeightOperand? {
        switch tensor.role {
        case .tokenEmbedding: return weights.tokenEmbedding
        case .weight(let site):
            let block = weights.blocks[tensor.layer!]
            switch site {
            case .qkv: return block.qkv.weight
            case .attentionOutput: return block.attentionOutput.weight
            case .mlpUp: return block.mlpUp.weight
            case .mlpDown: return block.mlpDown.weight
            }
        default: return nil
        }
    }
}
