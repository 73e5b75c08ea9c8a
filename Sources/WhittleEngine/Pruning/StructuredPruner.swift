// Structured pruning: whole attention heads or MLP neurons are scored, the least important of each
// block removed, and the model rebuilt with smaller matrices (per-block shapes), so the file is
// smaller and every product has less to do. A head is its query, key and value columns of c_attn
// (and their biases) and its rows of the attention c_proj; a neuron is its c_fc column (and bias)
// and its row of the MLP c_proj. Importance, as the method says (`PruningMethod.traits`):
// - magnitude (weights only): a head's ‖W_v,h‖_F·‖W_o,h‖_F, a neuron's ‖W_fc,j‖·‖W_proj,j‖;
// - wanda (calibration activations): the output energy the unit adds on the calibration tokens,
//   Σ_t ‖o_h,t·W_o,h‖² = tr(W_o,hᵀ H_hh W_o,h) per head (H the attention c_proj input Hessian), and
//   Σ_t g_j,t²·‖W_proj,j‖² = H_jj·‖W_proj,j‖² per neuron (H the MLP c_proj input Hessian), per token.
// A unit of importance zero contributes nothing on the calibration text; removing it with a zero
// output projection leaves every logit unchanged (tested). Every block loses the same number of
// units, so the MLP width stays uniform (transformers' `n_inner`). Removing every head of a block is
// refused: a block without attention is not a GPT-2 block.

import Foundation

public enum StructuredPruner {
    /// What a structured pass removed.
    public struct Result: @unchecked Sendable {
        public var model: GPTModel
        public var unit: PruningPlan.StructuredUnit
        /// Per block, the removed units (their indices in the input model), ascending.
        public var removed: [[Int]]
        /// Per block, every unit's importance.
        public var importance: [[Double]]
    }

    /// Scores every head or neuron of every block.
    public static func importance(_ model: GPTModel, unit: PruningPlan.StructuredUnit, method: PruningMethod,
                                  calibration: CalibrationStatistics?) throws -> [[Double]] {
        let d = model.layout.dimensions, p = model.parameters.pointer, C = d.C, hs = d.headWidth
        if method == .wanda, calibration == nil {
            throw WhittleError.config("wanda's head and neuron importance needs calibration statistics", hint: "pass --calibration-samples N")
        }
        guard method.traits.structuredImportance != nil else {
            throw WhittleError.config("\(method.rawValue) has no structured form", hint: "use --method magnitude or --method wanda with --structured")
        }
        return (0..<d.L).map { l in
            let block = model.layout.blocks[l], A = d.attentionWidth(l), H = d.layers[l].hiddenWidth
            let qkv = p + block.attnWeight, projection = p + block.projWeight
            let up = p + block.fcWeight, down = p + block.fcProjWeight
            func rowDot(_ m: UnsafeMutablePointer<Float>, _ i: Int, _ j: Int) -> Double {
                var sum: Double = 0
                for c in 0..<C { sum += Double(m[i * C + c]) * Double(m[j * C + c]) }
                return sum
            }
            switch (unit, method) {
            case (.heads, .magnitude):
                return (0..<d.layers[l].heads).map { h in
                    var value: Double = 0, output: Double = 0
                    for c in 0..<C { for i in 0..<hs { let w = Double(qkv[c * 3 * A + 2 * A + h * hs + i]); value += w * w } }
                    for i in 0..<hs { output += rowDot(projection, h * hs + i, h * hs + i) }
                    return value.squareRoot() * output.squareRoot()
                }
            case (.heads, _):
                let statistics = calibration!["h.\(l).attn.c_proj.weight"]!
                return (0..<d.layers[l].heads).map { h in
                    var energy: Double = 0
                    for i in 0..<hs {
                        for j in 0..<hs {
                            let a = h * hs + i, b = h * hs + j
                            energy += statistics.hessian[a * A + b] * rowDot(projection, a, b)
                        }
                    }
                    return energy / Double(max(statistics.tokens, 1))
                }
            case (.neurons, .magnitude):
                return (0..<H).map { j in
                    var column: Double = 0
                    for c in 0..<C { let w = Double(up[c * H + j]); column += w * w }
                    return column.squareRoot() * rowDot(down, j, j).squareRoot()
                }
            case (.neurons, _):
                let statistics = calibration!["h.\(l).mlp.c_proj.weight"]!
                return (0..<H).map { j in statistics.hessian[j * H + j] * rowDot(down, j, j) / Double(max(statistics.tokens, 1)) }
            }
        }
    }

    /// Removes `plan.sparsity` of each block's heads or neurons (rounded to the nearest whole unit), the
    /// least important first (ties: the lower index).
    public static func prune(_ model: GPTModel, plan: PruningPlan, calibration: CalibrationStatistics?) throws -> Result {
        try plan.validate()
        guard let unit = plan.structured else { throw WhittleError.config("the plan is not structured", hint: "this is a bug in the caller") }
        let scores = try importance(model, unit: unit, method: plan.method, calibration: calibration)
        let removed = try scores.enumerated().map { l, blockScores -> [Int] in
            let count = Int((plan.sparsity * Double(blockScores.count)).rounded())
            guard count > 0 else {
                throw WhittleError.config("--sparsity \(plan.sparsity) removes no \(unit.rawValue) of block \(l) (\(blockScores.count) \(unit.rawValue), rounded to whole units)",
                                          hint: "raise --sparsity to at least \(String(format: "%.3g", 0.5 / Double(blockScores.count) + 1e-3))")
            }
            let order = blockScores.indices.sorted { (blockScores[$0], $0) < (blockScores[$1], $1) }
            return Array(order.prefix(count)).sorted()
        }
        let smaller = unit == .heads ? try removing(model, heads: removed) : try removing(model, neurons: removed)
        return Result(model: smaller, unit: unit, removed: removed, importance: scores)
    }

    /// A copy of `model` without the listed heads of each block (indices into each block's heads).
    public static func removing(_ model: GPTModel, heads removed: [[Int]]) throws -> GPTModel {
        let d = model.layout.dimensions
        try checkUnits(removed, counts: d.layers.map(\.heads), unit: "head", layers: d.L)
        for (l, list) in removed.enumerated() where Set(list).count >= d.layers[l].heads {
            throw WhittleError.config("removing every head of block \(l) (\(d.layers[l].heads)) would leave it without attention",
                                      hint: "keep at least one head per block: lower --sparsity")
        }
        let shapes = d.layers.enumerated().map { l, shape in LayerShape(heads: shape.heads - Set(removed[l]).count, hiddenWidth: shape.hiddenWidth) }
        return try rebuilt(model, shapes: shapes) { tensor in
            guard let l = tensor.layer else { return (nil, nil) }
            let hs = d.headWidth, A = d.attentionWidth(l)
            let keptHeads = (0..<d.layers[l].heads).filter { !removed[l].contains($0) }
            let within = keptHeads.flatMap { h in (h * hs)..<((h + 1) * hs) }
            let packed = (0..<3).flatMap { part in within.map { part * A + $0 } }
            switch tensor.role {
            case .weight(.qkv): return (nil, packed)
            case .bias(.qkv): return (nil, packed)
            case .weight(.attentionOutput): return (within, nil)
            default: return (nil, nil)
            }
        }
    }

    /// A copy of `model` without the listed MLP neurons of each block.
    public static func removing(_ model: GPTModel, neurons removed: [[Int]]) throws -> GPTModel {
        let d = model.layout.dimensions
        try checkUnits(removed, counts: d.layers.map(\.hiddenWidth), unit: "neuron", layers: d.L)
        for (l, list) in removed.enumerated() where Set(list).count >= d.layers[l].hiddenWidth {
            throw WhittleError.config("removing every MLP neuron of block \(l) would leave it without an MLP", hint: "lower --sparsity")
        }
        let shapes = d.layers.enumerated().map { l, shape in LayerShape(heads: shape.heads, hiddenWidth: shape.hiddenWidth - Set(removed[l]).count) }
        return try rebuilt(model, shapes: shapes) { tensor in
            guard let l = tensor.layer else { return (nil, nil) }
            let kept = (0..<d.layers[l].hiddenWidth).filter { !removed[l].contains($0) }
            switch tensor.role {
            case .weight(.mlpUp), .bias(.mlpUp): return (nil, kept)
            case .weight(.mlpDown): return (kept, nil)
            default: return (nil, nil)
            }
        }
    }

    private static func checkUnits(_ removed: [[Int]], counts: [Int], unit: String, layers: Int) throws {
        guard removed.count == layers else {
            throw WhittleError.config("\(removed.count) lists of \(unit)s to remove for \(layers) blocks", hint: "give one list per block")
        }
        for (l, list) in removed.enumerated() {
            if let bad = list.first(where: { !(0..<counts[l]).contains($0) }) {
                throw WhittleError.config("block \(l) has no \(unit) \(bad) (it has \(counts[l]))", hint: "\(unit)s are numbered from 0")
            }
        }
    }

    /// A model of `shapes` whose tensors are `model`'s, each cut to the rows (first axis) and columns
    /// (last axis; a vector's only axis) `select` keeps (nil = all).
    static func rebuilt(_ model: GPTModel, shapes: [LayerShape],
                        select: (ParameterTensor) -> (rows: [Int]?, columns: [Int]?)) throws -> GPTModel {
        var config = model.config
        config.setLayerShapes(shapes)
        try config.validate()
        let smaller = try GPTModel(config: config)
        for tensor in smaller.layout.tensors {
            let source = model.layout.tensor(named: tensor.name)!
            let from = model.parameters.pointer + source.offset, to = smaller.parameters.pointer + tensor.offset
            let (rows, columns) = select(source)
            if tensor.shape.count == 1 {
                let kept = columns ?? Array(0..<source.count)
                for (i, j) in kept.enumerated() { to[i] = from[j] }
                continue
            }
            let sourceColumns = source.shape[1]
            let keptRows = rows ?? Array(0..<source.shape[0]), keptColumns = columns ?? Array(0..<sourceColumns)
            precondition(keptRows.count * keptColumns.count == tensor.count, "\(tensor.name): the selection must fill the new shape")
            var i = 0
            for r in keptRows {
                for c in keptColumns {
                    to[i] = from[r * sourceColumns + c]
                    i += 1
                }
            }
        }
        return smaller
    }
}
