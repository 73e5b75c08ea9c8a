// Compressing the live model between steps. `pruneNow` prunes the current fp32 weights (calibrated
// on the run's own train split), measures the damage on validation windows, then adopts the result:
// pruned weights zero, their optimizer state cleared, the mask (combined with any earlier one) kept
// through every later step and written with the next checkpoint. `quantizeNow` rounds the master into
// a separate store and measures it the same way; it reads the weights and writes nothing the run owns
// (weights, optimizer state, generators), so training continues exactly as if it had not happened.

import Foundation

extension Trainer {
    /// Prunes the run's weights now (see the file comment); returns the event (its `seconds` is 0:
    /// the caller knows the training clock).
    public func pruneNow(_ request: PruneNowRequest) throws -> CompressionEvent {
        let start = DispatchTime.now().uptimeNanoseconds
        let plan = request.plan
        try plan.validate()
        guard plan.structured == nil else {
            throw WhittleError.config("structured pruning changes the model's shape, which a run keeps",
                                      hint: "prune single weights or an N:M pattern here; for heads or neurons use `whittle prune --structured` and `whittle train --init-from`")
        }
        try plan.check(layout: model.layout)
        let calibration = plan.needsCalibration ? try runCalibration(samples: request.calibrationSamples, seed: request.calibrationSeed) : nil
        let pruned = try Pruner.prune(model, plan: plan, calibration: calibration)
        let combined = Self.combine(mask, with: pruned.mask)
        combined.apply(to: pruned.model.parameters.pointer)   // earlier pruned weights stay pruned (SparseGPT may move them)
        let comparison = try compareOnValidation(pruned.model.weights, windows: request.evaluationWindows)
        // Adopt: the pruned weights, then the mask (zeroes the optimizer state of every pruned weight).
        model.parameters.copy(from: pruned.model.parameters)
        try keep(combined)
        notes.append("step \(step): pruned \(request.summary) during the run; the mask is kept from here on")
        return event(.prune, settings: request.summary, comparison, start: start,
                     sparsity: Double(combined.prunedCount) / Double(max(combined.maskedCount, 1)))
    }

    /// Rounds the fp32 master as `request` says and scores the rounded weights against it; changes nothing.
    public func quantizeNow(_ request: QuantizeNowRequest) throws -> CompressionEvent {
        let start = DispatchTime.now().uptimeNanoseconds
        let formats = try request.plan.resolve(layout: model.layout)
        let formatOf = Dictionary(uniqueKeysWithValues: zip(model.layout.tensors.map(\.name), formats))
        let calibration = request.method.needsCalibration
            ? try runCalibration(samples: request.calibrationSamples, seed: request.calibrationSeed) : nil
        let rounded = try Rounding.quantize(model: model, plan: { formatOf[$0.name]! }, method: request.method,
                                            calibration: calibration)
        let comparison = try withExtendedLifetime(rounded) {
            try compareOnValidation(rounded.store.weights, windows: request.evaluationWindows)
        }
        let bits = Double(rounded.store.payloadBytes * 8) / Double(model.parameterCount)
        return event(.quantize, settings: request.summary, comparison, start: start, bitsPerWeight: bits)
    }

    /// Calibration statistics of the current weights on `samples` windows of the run's train split.
    func runCalibration(samples: Int, seed: UInt64) throws -> CalibrationStatistics {
        guard samples >= 1 else {
            throw WhittleError.config("calibration needs at least 1 window (got \(samples))", hint: "use 32 or more")
        }
        return try CalibrationStatistics.collect(model: model, splits: data, split: .train, samples: samples, seed: seed)
    }

    /// The fp32 weights (base) against `compressed` on the first `windows` context windows of the validation split.
    func compareOnValidation(_ compressed: ModelWeights, windows: Int) throws -> ComparisonResult {
        guard windows >= 1 else {
            throw WhittleError.config("evaluation needs at least 1 validation window (got \(windows))", hint: "use 64 or more")
        }
        let T = config.contextLength
        let tokens = Array(data.validation.prefix(windows * T + 1))
        return try withExtendedLifetime(model) {
            try Comparator.compare(base: model.weights, variants: [compressed], tokens: tokens, contextLength: T)
        }
    }

    func event(_ kind: CompressionEvent.Kind, settings: String, _ result: ComparisonResult, start: UInt64,
               sparsity: Double? = nil, bitsPerWeight: Double? = nil) -> CompressionEvent {
        let comparison = result.variants[0]
        return CompressionEvent(kind: kind, step: step, seconds: 0, settings: settings, lossBefore: result.base.loss,
                         lossAfter: comparison.evaluation.loss, lossChangeStandardError: comparison.lossChangeStandardError,
                         divergence: comparison.divergence.mean, agreement: comparison.agreement,
                         tokens: comparison.evaluation.tokens, sparsity: sparsity, bitsPerWeight: bitsPerWeight,
                         wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// `earlier` and `new` together: a weight is kept only if both keep it (tensors in one only keep its bits).
    static func combine(_ earlier: SparsityMask?, with new: SparsityMask) -> SparsityMask {
        guard let earlier else { return new }
        var entries = earlier.entries
        for entry in new.entries {
            guard let index = entries.firstIndex(where: { $0.tensor == entry.tensor }) else {
                entries.append(entry)
                continue
            }
            var kept = entries[index].kept
            for i in kept.indices { kept[i] &= entry.kept[i] }
            entries[index].kept = kept
        }
        return SparsityMask(entries: entries.sorted { $0.offset < $1.offset })
    }
}
