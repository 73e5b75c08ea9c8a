// What a plan would make of a model, before anything is rounded: every tensor's stored format, the
// weights' bytes in memory (the stored blocks, scales included, as `WeightStore.payloadBytes`
// counts them), bits per parameter (as `variant.json` records them) and, with the model's config
// and tokenizer, the GGUF file's exact size. The Compress screen shows these next to the base.

/// A plan's outcome for one model, computed from its layout and the formats' block sizes.
public struct QuantizationPrediction: Equatable, Sendable {
    /// One format per tensor of the layout, in its order (non-quantizable tensors f32).
    public var formats: [WeightFormat]
    /// Bytes of the stored tensors (blocks and their scales; no alignment padding).
    public var weightBytes: Int
    /// Parameters of the model (every tensor).
    public var parameterCount: Int
    /// Size of the variant's `model.gguf` (nil when not asked for).
    public var fileBytes: Int?

    /// Storage bits per parameter, as `variant.json` reports them.
    public var bitsPerWeight: Double { Double(weightBytes * 8) / Double(max(parameterCount, 1)) }
}

extension QuantizationPlan {
    /// Resolves the plan against `layout` (throwing as `resolve` does) and adds up what the tensors would hold.
    public func predict(layout: ParameterLayout) throws -> QuantizationPrediction {
        let formats = try resolve(layout: layout)
        var bytes = 0
        for (tensor, format) in zip(layout.tensors, formats) {
            let rowLength = tensor.shape.count == 2 ? Self.rowLength(tensor) : tensor.count
            bytes += tensor.count / rowLength * (format.rowBytes(rowLength) ?? rowLength * 4)
        }
        return QuantizationPrediction(formats: formats, weightBytes: bytes, parameterCount: layout.totalCount)
    }

    /// `predict(layout:)` for a model of `config` with the GGUF file's size for a variant named `name`.
    public func predict(config: ModelConfig, tokenizer: CharTokenizer, name: String) throws -> QuantizationPrediction {
        var prediction = try predict(layout: ParameterLayout(config.dimensions))
        prediction.fileBytes = try GPT2GGUF.predictedFileBytes(config: config, tokenizer: tokenizer,
                                                               formats: prediction.formats, name: name)
        return prediction
    }
}
