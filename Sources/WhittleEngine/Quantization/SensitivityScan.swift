// The sensitivity scan: how much each quantizable tensor, alone, costs in KL divergence to the fp32
// base at each type. One tensor at a time is rounded to nearest at one type (every other tensor stays
// fp32) and the model runs on the same calibration windows as the base; the mean per-token
// KL(base ‖ variant) is that cell of the map. `SensitivityMap.plan(targetBitsPerWeight:)` then picks
// the per-tensor types that minimise the summed KLD at a size. A tensor of block l changes nothing
// before block l, so the base pass keeps every block's input (the residual stream) and a cell runs
// only blocks l…L−1 and the head from it: the same logits as a whole forward, in about half the time.

import Foundation

public enum SensitivityScan {
    /// Types scanned unless asked otherwise: every storable type below 32 bits (f32 is always an option, at KLD 0).
    public static var defaultFormats: [WeightFormat] { QuantizationPlan.storableFormats.filter { $0 != .f32 } }

    /// Progress: cells measured of the total, and the cell just measured.
    public struct Progress: Equatable, Sendable {
        public let done: Int
        public let total: Int
        public let tensor: String
        public let format: WeightFormat
    }

    /// Windows scored per forward pass (memory grows with it; the result does not depend on it).
    static let batchWindows = 8

    /// Scans `model` on `samples` windows of its context drawn with `seed` from `tokens` (calibration
    /// text named `source`, never the validation split), for each of `formats` that fits each tensor.
    /// `isCancelled` is polled between cells (`.cancelled` is thrown).
    public static func run(model: GPTModel, tokens: [Int32], source: String, samples: Int, seed: UInt64,
                           formats: [WeightFormat] = defaultFormats, budget: ResourceBudget = .current(),
                           progress: (Progress) -> Void = { _ in }, isCancelled: () -> Bool = { false }) throws -> SensitivityMap {
        let start = DispatchTime.now().uptimeNanoseconds
        let layout = model.layout, d = model.config.dimensions
        let T = model.config.contextLength, V = d.V
        guard samples >= 1 else {
            throw WhittleError.config("the scan sample count must be at least 1 (got \(samples))", hint: "pass --scan-samples 32, for example")
        }
        guard tokens.count >= T else {
            throw WhittleError.data("the calibration text '\(source)' has \(tokens.count) tokens; one window of \(T) needs at least \(T)",
                                    hint: "use a longer calibration text")
        }
        try Evaluator.checkVocabulary(tokens, size: V)
        let unusable = formats.filter { $0.traits.ggufType == nil }
        guard unusable.isEmpty, !formats.isEmpty else {
            throw WhittleError.config("the scan needs storable types; \(unusable.isEmpty ? "none were given" : unusable.map(\.rawValue).joined(separator: ", ") + " cannot be stored")",
                                      hint: "scan types: \(defaultFormats.map(\.rawValue).joined(separator: ", "))")
        }
        let B = min(batchWindows, samples)
        let baseLogits = Double(samples) * Double(T) * Double(V) * 8
        let prefixes = Double(samples) * Double(T) * Double(d.C) * Double(max(d.L - 1, 0)) * 4
        try budget.check(ModelConfig.approximateActivationBytes(d, batchSize: B, contextLength: T) + baseLogits + prefixes
                            + Double(layout.totalCount) * 8,
                         for: "a sensitivity scan over \(samples) windows of \(T) tokens",
                         fix: "lower --scan-samples")

        // The windows, drawn once, and the base's log-probabilities at every position.
        var generator = RandomGenerator(seed: seed)
        let offsets = (0..<samples).map { _ in tokens.count > T ? generator.nextInt(below: tokens.count - T + 1) : 0 }
        let positions = samples * T
        let baseLogProbabilities = UnsafeMutablePointer<Double>.allocate(capacity: positions * V)
        defer { baseLogProbabilities.deallocate() }
        // The base's input to blocks 1…L−1 at every position ([L−1][positions, C]).
        let C = d.C
        let prefix = UnsafeMutablePointer<Float>.allocate(capacity: max(d.L - 1, 0) * positions * C)
        defer { prefix.deallocate() }
        let arena = ActivationArena(dimensions: d, B: B, T: T)
        var smallArena: ActivationArena? = nil
        /// Runs every batch of windows from block `firstLayer` (its input restored from `prefix`), or whole when 0.
        func forEachBatch(_ weights: ModelWeights, firstLayer: Int = 0,
                          _ body: (_ a: ActivationArena, _ firstPosition: Int, _ count: Int) -> Void) {
            var window = 0
            while window < samples {
                let count = min(B, samples - window)
                if count != B, smallArena?.B != count { smallArena = ActivationArena(dimensions: d, B: count, T: T) }
                let a = count == B ? arena : smallArena!
                if firstLayer > 0 {
                    a.residuals[firstLayer].pointer.update(from: prefix + ((firstLayer - 1) * positions + window * T) * C,
                                                           count: count * T * C)
                } else {
                    for b in 0..<count {
                        for t in 0..<T { a.tokens[b * T + t] = tokens[offsets[window + b] + t] }
                    }
                }
                GPT.forward(weights: weights, arena: a, withTargets: false, firstLayer: firstLayer)
                body(a, window * T, count * T)
                window += count
            }
        }
        withExtendedLifetime(model) {
            forEachBatch(model.weights) { a, first, count in
                for n in 0..<count {
                    _ = Comparator.logSoftmax(a.logits.pointer + n * V, count: V, into: baseLogProbabilities + (first + n) * V)
                }
                for l in stride(from: 1, to: d.L, by: 1) {
                    (prefix + ((l - 1) * positions + first) * C).update(from: a.residuals[l].pointer, count: count * C)
                }
            }
        }

        let targets = layout.tensors.filter(QuantizationPlan.isQuantizable)
        let cells = targets.map { tensor in formats.filter { $0.rowBytes(QuantizationPlan.rowLength(tensor)) != nil } }
        let total = cells.reduce(0) { $0 + $1.count }
        var done = 0
        var rows: [SensitivityMap.Row] = []
        for (tensor, fitting) in zip(targets, cells) {
            var divergences: [WeightFormat: Double] = [:]
            for format in fitting {
                guard !isCancelled() else { throw WhittleError(.cancelled, "sensitivity scan cancelled") }
                let store = WeightStore(layout: layout, parameters: model.parameters.pointer) { $0.name == tensor.name ? format : .f32 }
                var sum = 0.0
                withExtendedLifetime(store) {
                    forEachBatch(store.weights, firstLayer: tensor.layer ?? 0) { a, first, count in
                        for n in 0..<count {
                            sum += Comparator.tokenStatistics(baseLogProbabilities: baseLogProbabilities + (first + n) * V,
                                                              variant: a.logits.pointer + n * V, count: V, target: 0).divergence
                        }
                    }
                }
                divergences[format] = max(sum / Double(positions), 0)
                done += 1
                progress(Progress(done: done, total: total, tensor: tensor.name, format: format))
            }
            rows.append(SensitivityMap.Row(tensor: tensor.name, parameters: tensor.count, rowLength: QuantizationPlan.rowLength(tensor),
                                           divergence: divergences))
        }
        let fixedBytes = layout.tensors.filter { !QuantizationPlan.isQuantizable($0) }.reduce(0) { $0 + $1.count * 4 }
        return SensitivityMap(formats: formats, rows: rows, fixedBytes: fixedBytes, parameterCount: layout.totalCount,
                              source: source, samples: samples, seed: seed, contextLength: T,
                              seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
