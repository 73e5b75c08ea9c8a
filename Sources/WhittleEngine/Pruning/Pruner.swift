// Unstructured and N:M pruning of an fp32 model: each targeted matrix is viewed output-major
// (rows = outputs, columns = inputs, so N:M groups run along the reduction axis as sparse hardware
// expects), scored and masked as its `PruningMethod` says, and written back; the result is a new
// model whose pruned weights are exactly zero, the mask (one bitmap per targeted tensor) and a
// report per tensor with the output error on the calibration inputs when statistics are given.
// The hot loops (selection, SparseGPT) live in `WhittleKernels/Pruning/`.

import Foundation

/// Pruning single weights (`whittle prune` without --structured).
public enum Pruner {
    /// One pruned tensor's figures.
    public struct TensorReport: Equatable, Sendable {
        public var tensor: String
        public var count: Int
        public var pruned: Int
        /// ‖XΔWᵀ‖² / ‖XWᵀ‖² on the calibration inputs (nil without statistics).
        public var relativeError: Double?
        public var sparsity: Double { count == 0 ? 0 : Double(pruned) / Double(count) }
    }

    public struct Result: @unchecked Sendable {
        public var model: GPTModel
        public var mask: SparsityMask
        public var reports: [TensorReport]
    }

    /// Tensor `index` (from 1) of `count` is being pruned.
    public struct Progress: Equatable, Sendable {
        public var tensor: String
        public var index: Int
        public var count: Int
    }

    /// Prunes a copy of `model` as `plan` says. `calibration` is required by methods that need it
    /// (`.config` error otherwise); `isCancelled` is polled between tensors.
    public static func prune(_ model: GPTModel, plan: PruningPlan, calibration: CalibrationStatistics?,
                             options: SparseGPT.Options = SparseGPT.Options(),
                             progress: (Progress) -> Void = { _ in }, isCancelled: () -> Bool = { false }) throws -> Result {
        try plan.validate()
        guard plan.structured == nil else {
            throw WhittleError.config("structured pruning is StructuredPruner's", hint: "this is a bug in the caller")
        }
        try plan.check(layout: model.layout)
        if plan.method.traits.needsCalibration, calibration == nil {
            throw WhittleError.config("\(plan.method.rawValue) needs calibration statistics", hint: "pass --calibration-samples N (128 by default)")
        }
        let pruned = try GPTModel(config: model.config)
        pruned.parameters.copy(from: model.parameters)
        let targets = model.layout.tensors.filter(plan.targets)
        let globalCut = plan.scope == .global ? globalMagnitudeCut(pruned, targets: targets, sparsity: plan.sparsity) : nil
        var globalTies = globalCut?.atThreshold ?? 0
        var entries: [SparsityMask.Entry] = [], reports: [TensorReport] = []
        for (index, tensor) in targets.enumerated() {
            guard !isCancelled() else { throw WhittleError(.cancelled, "pruning cancelled; nothing was written") }
            progress(Progress(tensor: tensor.name, index: index + 1, count: targets.count))
            let matrix = OutputMajorMatrix(tensor, parameters: pruned.parameters.pointer)
            var weights = matrix.read()
            let original = weights
            var kept = [Bool](repeating: true, count: weights.count)
            let statistics = calibration?[tensor.name]
            if plan.method.traits.needsCalibration, statistics?.inputs != matrix.columns {
                throw WhittleError.config("the calibration statistics have no inputs of \(tensor.name) (\(matrix.columns) wide)",
                                          hint: "collect the statistics from this model")
            }
            switch plan.method {
            case .magnitude:
                let scores = weights.map { abs($0) }
                if let pattern = plan.pattern {
                    PruningSelection.nOfM(scores, rows: matrix.rows, columns: matrix.columns, keep: pattern.keep, group: pattern.group, kept: &kept)
                } else {
                    scores.withUnsafeBufferPointer { s in
                        kept.withUnsafeMutableBufferPointer { k in
                            if let globalCut {
                                PruningSelection.apply(globalCut, scores: s, kept: k, remainingTies: &globalTies)
                            } else {
                                let cut = PruningSelection.cut(s, count: Int(Double(s.count) * plan.sparsity))
                                var ties = cut?.atThreshold ?? 0
                                PruningSelection.apply(cut, scores: s, kept: k, remainingTies: &ties)
                            }
                        }
                    }
                }
            case .wanda:
                let norms = (0..<matrix.columns).map { Float(statistics!.hessian[$0 * matrix.columns + $0].squareRoot()) }
                var scores = weights
                for r in 0..<matrix.rows { for k in 0..<matrix.columns { scores[r * matrix.columns + k] = abs(weights[r * matrix.columns + k]) * norms[k] } }
                if let pattern = plan.pattern {
                    PruningSelection.nOfM(scores, rows: matrix.rows, columns: matrix.columns, keep: pattern.keep, group: pattern.group, kept: &kept)
                } else {
                    PruningSelection.smallestPerRow(scores, rows: matrix.rows, columns: matrix.columns,
                                                    count: Int(Double(matrix.columns) * plan.sparsity), kept: &kept)
                }
            case .sparsegpt:
                let target: SparseGPT.Target = plan.pattern.map { .nOfM(keep: $0.keep, group: $0.group) } ?? .fraction(plan.sparsity)
                do {
                    try statistics!.hessian.withUnsafeBufferPointer { h in
                        _ = try SparseGPT.prune(weights: &weights, rows: matrix.rows, columns: matrix.columns, hessian: h.baseAddress!,
                                                target: target, options: options, kept: &kept)
                    }
                } catch let failure as GPTQ.Failure {
                    throw WhittleError(.numeric, "SparseGPT could not prune \(tensor.name): \(failure)",
                                       hint: "use more calibration samples, or --method wanda")
                }
            }
            for i in 0..<weights.count where !kept[i] { weights[i] = 0 }
            matrix.store(weights)
            entries.append(SparsityMask.Entry(tensor: tensor.name, offset: tensor.offset, keptFlags: matrix.arenaOrder(kept)))
            let prunedCount = kept.reduce(0) { $0 + ($1 ? 0 : 1) }
            reports.append(TensorReport(tensor: tensor.name, count: tensor.count, pruned: prunedCount,
                                        relativeError: statistics.map { relativeError(original: original, pruned: weights, rows: matrix.rows, statistics: $0) }))
        }
        return Result(model: pruned, mask: SparsityMask(entries: entries), reports: reports)
    }

    /// One threshold over the magnitudes of every target (magnitude, --scope global).
    static func globalMagnitudeCut(_ model: GPTModel, targets: [ParameterTensor], sparsity: Double) -> PruningSelection.Cut? {
        var all: [Float] = []
        all.reserveCapacity(targets.reduce(0) { $0 + $1.count })
        for tensor in targets {
            let p = model.parameters.pointer + tensor.offset
            for i in 0..<tensor.count { all.append(abs(p[i])) }
        }
        return all.withUnsafeBufferPointer { PruningSelection.cut($0, count: Int(Double($0.count) * sparsity)) }
    }

    /// ‖XΔWᵀ‖² / ‖XWᵀ‖² from the layer's Hessian (output-major rows × K matrices).
    public static func relativeError(original: [Float], pruned: [Float], rows: Int, statistics: LayerStatistics) -> Double {
        let K = statistics.inputs
        let h = statistics.hessian.map { Float($0) }
        let delta = zip(original, pruned).map { $0 - $1 }
        let total = SymmetricMatrix.quadraticForm(original, rows: rows, n: K, h: h)
        return total > 0 ? SymmetricMatrix.quadraticForm(delta, rows: rows, n: K, h: h) / total : 0
    }
}

/// A matrix of the parameter arena seen output-major (rows = outputs, columns = inputs).
struct OutputMajorMatrix {
    let tensor: ParameterTensor
    let base: UnsafeMutablePointer<Float>
    let rows: Int, columns: Int
    var transposed: Bool { tensor.orientation == .inputMajor }

    init(_ tensor: ParameterTensor, parameters: UnsafeMutablePointer<Float>) {
        self.tensor = tensor
        base = parameters + tensor.offset
        (rows, columns) = tensor.orientation == .inputMajor ? (tensor.shape[1], tensor.shape[0]) : (tensor.shape[0], tensor.shape[1])
    }

    /// Element r·columns + k of the output-major view is arena element `arenaIndex(r, k)`.
    func arenaIndex(_ r: Int, _ k: Int) -> Int { transposed ? k * rows + r : r * columns + k }

    func read() -> [Float] {
        var values = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows { for k in 0..<columns { values[r * columns + k] = base[arenaIndex(r, k)] } }
        return values
    }

    func store(_ values: [Float]) {
        for r in 0..<rows { for k in 0..<columns { base[arenaIndex(r, k)] = values[r * columns + k] } }
    }

    /// Output-major flags in the arena's element order.
    func arenaOrder(_ flags: [Bool]) -> [Bool] {
        var result = [Bool](repeating: true, count: flags.count)
        for r in 0..<rows { for k in 0..<columns { result[arenaIndex(r, k)] = flags[r * columns + k] } }
        return result
    }
}
