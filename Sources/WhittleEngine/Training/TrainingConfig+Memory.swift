// What a run of this configuration will hold in memory, computed from the dimensions before
// anything is allocated: the same categories as the live ledger (TrainingSession.MemoryLedger).

extension TrainingConfig {
    /// Exact bytes of weights, gradients, optimizer state, activations and scratch for a run of this
    /// configuration over a vocabulary of `vocabularySize` symbols (RSS fields are 0). Assumes a
    /// valid configuration (`validate()`).
    public func memoryEstimate(vocabularySize: Int) -> TrainingSession.MemoryLedger {
        let dimensions = modelConfig(vocabularySize: vocabularySize).dimensions
        let layout = ParameterLayout(dimensions)
        let parameters = layout.byteCount
        var activations = 0, scratch = 0
        for index in 0..<workers {
            let size = Parallel.range(index, of: workers, total: batchSize).count   // as TrainingWorker.split
            let counts = ActivationArena.byteCounts(dimensions: dimensions, B: size, T: contextLength,
                                                    supportsDropout: dropout > 0,
                                                    checkpointEvery: checkpointEvery ?? 0, precision: precision)
            activations += counts.activations
            scratch += counts.scratch
        }
        let halfCopy = precision.isHalf ? layout.byteCount(as: WeightFormat(precision)) : 0   // the matmul copy of the weights
        return TrainingSession.MemoryLedger(weights: parameters + halfCopy, gradients: workers * parameters,
                                            optimizer: optimizer.stateBytes(for: layout), activations: activations, workspace: scratch)
    }

    /// Parameters of the model this configuration describes.
    public func parameterCount(vocabularySize: Int) -> Int {
        ParameterLayout(modelConfig(vocabularySize: vocabularySize).dimensions).totalCount
    }
}
