// Whether a run of this configuration fits the machine and how long it will take, checked before the
// trainer allocates anything: a Double prediction first (finite for any validated shape), then the
// exact ledger (`memoryEstimate`) once the prediction is known to be small, both against
// `ResourceBudget`; and a FLOP estimate of the remaining steps against `ResourceBudget.longRunSeconds`.
// New runs, resumed runs, `init_from`, `bench train`, sweeps and the workbench's new-run dialog all
// pass through `checkBudget`.

extension TrainingConfig {
    /// Throws `.invalidConfig` (with the predicted bytes and a fix) when a run of this configuration
    /// over `model` (its shape; per-block shapes included) would not fit in memory, and
    /// `.needsConfirmation` when the steps after `fromStep` would take longer than
    /// `ResourceBudget.longRunSeconds` unless `confirmedLong`.
    public func checkBudget(model: ModelConfig, fromStep: Int = 0, confirmedLong: Bool,
                            budget: ResourceBudget = .current()) throws {
        let parameters = model.approximateParameterCount
        let optimizerFactor: Double = optimizer == .sgd ? 0 : 2
        let perParameter = 4 * (1 + Double(workers) + optimizerFactor) + (precision.isHalf ? 2 : 0)
        let activations = model.approximateActivationBytes(batchSize: batchSize, contextLength: contextLength)
        let fix = "lower n_layer, n_embd, block_size or batch_size (or use checkpointing = \"true\" for activations), or free memory"
        let rough = parameters * perParameter + activations
        let what = "a run of this shape (\(Self.shapeText(model)), batch_size \(batchSize))"
        // The Double prediction bounds every Int product of the exact ledger: only compute that when it is small.
        if rough > 4 * budget.limitBytes || !model.isUniform {
            try budget.check(rough, for: what, fix: fix)
        } else {
            try budget.check(Double(memoryEstimate(vocabularySize: model.vocabularySize).total), for: what, fix: fix)
        }
        let seconds = estimatedSeconds(model: model, fromStep: fromStep)
        try ResourceBudget.checkDuration(seconds, for: "training steps \(fromStep + 1)...\(maxIterations)",
                                         confirmed: confirmedLong,
                                         fix: "lower max_iters or the model size, or pass --force (in the workbench: confirm) to run it anyway")
    }

    /// Predicted seconds for the steps after `fromStep`: (6 × non-embedding parameters + 12 × layers ×
    /// width × context) FLOPs per token (nanoGPT's estimate) × tokens per step, plus the periodic
    /// estimates' forward passes, at `ResourceBudget.assumedFlopsPerThread` per thread.
    public func estimatedSeconds(model: ModelConfig, fromStep: Int = 0) -> Double {
        let c = Double(model.embeddingWidth)
        let embeddings = (Double(model.vocabularySize) + Double(model.contextLength)) * c
        let nonEmbedding = max(0, model.approximateParameterCount - embeddings)
        let perToken = 6 * nonEmbedding + 12 * Double(model.layerCount) * c * Double(contextLength)
        let tokensPerStep = Double(batchSize) * Double(contextLength) * Double(gradientAccumulationSteps)
        let steps = Double(max(0, maxIterations - fromStep))
        let evaluations = steps / Double(max(1, evalInterval)) * 2 * Double(evalIterations)
        let flops = perToken * tokensPerStep * steps + perToken / 3 * Double(batchSize) * Double(contextLength) * evaluations
        return ResourceBudget.estimatedSeconds(flops: flops, threads: workers * blasThreads)
    }

    static func shapeText(_ model: ModelConfig) -> String {
        "n_layer \(model.layerCount), n_embd \(model.embeddingWidth), block_size \(model.contextLength)"
    }
}
