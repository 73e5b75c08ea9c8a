// Starting a run from an existing model (`init_from`): the model's shape replaces the config's.

extension TrainingConfig {
    /// Copies a model's architecture keys (layers, heads, width, context, bias) into this config.
    public mutating func adoptShape(of model: ModelConfig) {
        layerCount = model.layerCount
        headCount = model.headCount
        embeddingWidth = model.embeddingWidth
        contextLength = model.contextLength
        hasBias = model.hasBias
    }
}
