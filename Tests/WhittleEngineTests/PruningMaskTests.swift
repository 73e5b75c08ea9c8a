// Pruning masks on small matrices: each method's mask against one computed by hand, N:M validity on
// every group, SparseGPT's lazy batches against its unbatched reference, SparseGPT's output error
// below Wanda's when inputs are correlated, and the plan's refusals of impossible requests.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct PruningMaskTests {
    /// SparseGPT with lazy batches vs without: the same arithmetic in another order (fp32).
    static let batchTolerance: Float = 1e-4

    /// A 2-layer width-8 model whose c_attn of block 0 is the hand matrix below (Conv1D [in, out]).
    func model(width: Int = 8) throws -> GPTModel {
        var generator = RandomGenerator(seed: 3)
        return try GPTModel.initialized(config: ModelConfig(layerCount: 2, headCount: 2, embeddingWidth: width, contextLength: 8,
                                                            vocabularySize: 11), generator: &generator)
    }

    /// Output-major values of a tensor.
    func outputMajor(_ model: GPTModel, _ name: String) -> [Float] {
        OutputMajorMatrix(model.layout.tensor(named: name)!, parameters: model.parameters.pointer).read()
    }

    func set(_ model: GPTModel, _ name: String, outputMajor values: [Float]) {
        OutputMajorMatrix(model.layout.tensor(named: name)!, parameters: model.parameters.pointer).store(values)
    }

    @Test func testMagnitude_perRowAndPerTensorMasksMatchHandComputed() {
        // 2 rows × 4 inputs; per tensor 50%: the 4 smallest |w| of all 8 go: 0.1, -0.2, 0.3, 0.4 (the 0.4 tie: first by position).
        let scores: [Float] = [0.1, 0.9, 0.2, 0.4,
                               0.3, 0.4, 0.8, 0.7]
        var kept = [Bool](repeating: true, count: 8)
        scores.withUnsafeBufferPointer { s in
            kept.withUnsafeMutableBufferPointer { k in
                let cut = PruningSelection.cut(s, count: 4)
                var ties = cut?.atThreshold ?? 0
                PruningSelection.apply(cut, scores: s, kept: k, remainingTies: &ties)
            }
        }
        #expect(kept == [false, true, false, false, false, true, true, true])
        // Per row (Wanda's group), 2 of 4 each.
        var rowKept = [Bool](repeating: true, count: 8)
        PruningSelection.smallestPerRow(scores, rows: 2, columns: 4, count: 2, kept: &rowKept)
        #expect(rowKept == [false, true, false, true, false, false, true, true])
        // 2:4 is the same as per row here; 1:2 keeps the larger of each pair.
        var pairKept = [Bool](repeating: true, count: 8)
        PruningSelection.nOfM(scores, rows: 2, columns: 4, keep: 1, group: 2, kept: &pairKept)
        #expect(pairKept == [false, true, false, true, false, true, true, false])
    }

    @Test func testPruner_magnitudeWandaAndGlobalMasksOnAModelMatchHandComputed() throws {
        let base = try model()
        // Block 0's mlp c_proj: 8 outputs × 32 inputs; give row 0 the magnitudes 1...32 (input k has |w| = k + 1, alternating sign).
        let name = "h.0.mlp.c_proj.weight"
        var values = outputMajor(base, name)
        for k in 0..<32 { values[k] = Float(k + 1) * (k % 2 == 0 ? 1 : -1) }
        set(base, name, outputMajor: values)
        let magnitude = try Pruner.prune(base, plan: PruningPlan(method: .magnitude, sparsity: 0.5), calibration: nil)
        let pruned = outputMajor(magnitude.model, name)
        // Per tensor: the row of 1...32 dominates the others (N(0, 0.02)), so none of it is pruned;
        // the tensor loses exactly half its weights, and every pruned weight is the smallest in |w|.
        let tensor = magnitude.mask[name]!
        #expect(tensor.count - tensor.keptCount == 128)
        let all = values.map(abs).sorted()
        #expect(zip(values, pruned).allSatisfy { original, now in now == 0 ? abs(original) <= all[127] : now == original })
        #expect(Array(pruned.prefix(32)) == Array(values.prefix(32)))   // row 0 is far above the threshold: untouched

        // Wanda with input norms 1 for inputs < 16 and 100 for the rest: in row 0, |w|·‖x‖ is k+1 for k < 16
        // and 100(k+1) above, so exactly inputs 0..<16 go.
        let statistics = calibration(for: base, norms: { k in k < 16 ? 1 : 100 })
        let wanda = try Pruner.prune(base, plan: PruningPlan(method: .wanda, sparsity: 0.5), calibration: statistics)
        let wandaRow = outputMajor(wanda.model, name).prefix(32)
        #expect(wandaRow.prefix(16).allSatisfy { $0 == 0 } && Array(wandaRow.suffix(16)) == Array(values[16..<32]))
        // Every row of every matrix loses exactly half (Wanda compares within rows).
        for report in wanda.reports { #expect(report.pruned * 2 == report.count, "\(report.tensor)") }

        // Global magnitude: one threshold, so matrices with larger weights lose fewer.
        let global = try Pruner.prune(base, plan: PruningPlan(method: .magnitude, sparsity: 0.5, scope: .global), calibration: nil)
        let total = global.reports.reduce(0) { $0 + $1.count }, prunedTotal = global.reports.reduce(0) { $0 + $1.pruned }
        #expect(prunedTotal == total / 2)
        let threshold = base.layout.tensors.filter(\.role.isLinearWeight).flatMap { outputMajor(base, $0.name).map(abs) }.sorted()[total / 2 - 1]
        for tensor in base.layout.tensors where tensor.role.isLinearWeight {
            for (original, now) in zip(outputMajor(base, tensor.name), outputMajor(global.model, tensor.name)) {
                #expect(now == 0 ? abs(original) <= threshold : (now == original && abs(original) >= threshold))
            }
        }
        // Embeddings, LayerNorms and biases are untouched unless asked.
        for tensor in base.layout.tensors where !tensor.role.isLinearWeight {
            #expect(global.mask[tensor.name] == nil)
            let a = UnsafeBufferPointer(start: base.parameters.pointer + tensor.offset, count: tensor.count)
            let b = UnsafeBufferPointer(start: global.model.parameters.pointer + tensor.offset, count: tensor.count)
            #expect(Array(a) == Array(b), "\(tensor.name)")
        }
    }

    /// Statistics with a diagonal Hessian whose input norms are `norms(k)` (H_kk = norm²) for every layer.
    func calibration(for model: GPTModel, norms: (Int) -> Double) -> CalibrationStatistics {
        var layers: [String: LayerStatistics] = [:]
        for site in CalibrationStatistics.sites(model.config.dimensions) {
            var h = [Double](repeating: 0, count: site.inputs * site.inputs)
            for k in 0..<site.inputs { h[k * site.inputs + k] = norms(k) * norms(k) }
            layers[site.tensor] = LayerStatistics(tensor: site.tensor, inputs: site.inputs, tokens: 1, hessian: h,
                                                  meanAbsolute: [Double](repeating: 1, count: site.inputs))
        }
        return CalibrationStatistics(split: "test", samples: 1, seed: 0, contextLength: 1, layers: layers)
    }

    @Test func testSparseGPT_identityHessianPrunesTheSmallestOfEachBlockWithoutUpdates() throws {
        // H = I: U is diagonal, so saliency ∝ w² and nothing is fed back; blocks of 4 columns, 50% of each.
        var weights: [Float] = [0.5, -0.1, 0.3, 0.2, 0.9, -0.8, 0.05, 0.6,
                                -0.4, 0.7, -0.15, 0.25, 0.35, 0.45, -0.55, 0.65]
        let original = weights
        var hessian = [Double](repeating: 0, count: 64)
        for k in 0..<8 { hessian[k * 8 + k] = 1 }
        var kept = [Bool](repeating: true, count: 16)
        try SparseGPT.prune(weights: &weights, rows: 2, columns: 8, hessian: hessian, target: .fraction(0.5),
                            options: SparseGPT.Options(blockSize: 4), kept: &kept)
        // Block 0 (columns 0..<4 of both rows): 0.5 -0.1 0.3 0.2 | -0.4 0.7 -0.15 0.25 → prune -0.1, -0.15, 0.2, 0.25.
        // Block 1 (columns 4..<8): 0.9 -0.8 0.05 0.6 | 0.35 0.45 -0.55 0.65 → prune 0.05, 0.35, 0.45, -0.55.
        let expected = [true, false, true, false, true, true, false, true,
                        true, true, false, false, false, false, false, true]
        #expect(kept == expected)
        #expect(zip(zip(weights, original), kept).allSatisfy { pair, keep in keep ? pair.0 == pair.1 : pair.0 == 0 })
        // 2:4 with H = I keeps the two largest |w| of each group of four.
        var nm = original
        try SparseGPT.prune(weights: &nm, rows: 2, columns: 8, hessian: hessian, target: .nOfM(keep: 2, group: 4),
                            options: SparseGPT.Options(blockSize: 4), kept: &kept)
        #expect(kept == [true, false, true, false, true, true, false, false,
                         true, true, false, false, false, false, true, true])
    }

    /// X (n × K) with strongly correlated columns: x = z·A for z ~ N(0, 1)^4, A 4×K.
    func correlatedHessian(K: Int, samples: Int = 256, seed: UInt64 = 7) -> [Double] {
        var generator = RandomGenerator(seed: seed)
        let latent = 4
        let mixing = (0..<(latent * K)).map { _ in Double(generator.nextNormal()) }
        var h = [Double](repeating: 0, count: K * K)
        for _ in 0..<samples {
            let z = (0..<latent).map { _ in Double(generator.nextNormal()) }
            let x = (0..<K).map { k in (0..<latent).reduce(0.0) { $0 + z[$1] * mixing[$1 * K + k] } + 0.05 * Double(generator.nextNormal()) }
            for i in 0..<K { for j in 0..<K { h[i * K + j] += x[i] * x[j] } }
        }
        return h
    }

    @Test func testSparseGPT_reconstructionErrorBelowWandaOnCorrelatedInputs() throws {
        let rows = 16, K = 32
        let hessian = correlatedHessian(K: K)
        var generator = RandomGenerator(seed: 11)
        let weights = (0..<(rows * K)).map { _ in generator.nextNormal() }
        let statistics = LayerStatistics(tensor: "w", inputs: K, tokens: 256, hessian: hessian, meanAbsolute: [Double](repeating: 1, count: K))
        for target in [SparseGPT.Target.fraction(0.5), .nOfM(keep: 2, group: 4)] {
            var wandaKept = [Bool](repeating: true, count: rows * K)
            let scores = (0..<(rows * K)).map { abs(weights[$0]) * Float(hessian[($0 % K) * K + $0 % K].squareRoot()) }
            if case .nOfM(let keep, let group) = target {
                PruningSelection.nOfM(scores, rows: rows, columns: K, keep: keep, group: group, kept: &wandaKept)
            } else {
                PruningSelection.smallestPerRow(scores, rows: rows, columns: K, count: K / 2, kept: &wandaKept)
            }
            let wanda = zip(weights, wandaKept).map { $1 ? $0 : 0 }
            var sparse = weights
            var kept = [Bool](repeating: true, count: rows * K)
            try SparseGPT.prune(weights: &sparse, rows: rows, columns: K, hessian: hessian, target: target, kept: &kept)
            #expect(kept.filter { !$0 }.count == rows * K / 2)
            let wandaError = Pruner.relativeError(original: weights, pruned: wanda, rows: rows, statistics: statistics)
            let sparseError = Pruner.relativeError(original: weights, pruned: sparse, rows: rows, statistics: statistics)
            #expect(sparseError < wandaError, "\(target): SparseGPT \(sparseError) vs Wanda \(wandaError)")
        }
    }

    @Test func testSparseGPT_lazyBatchesMatchTheUnbatchedReference() throws {
        let rows = 6, K = 64
        let hessian = correlatedHessian(K: K, seed: 3)
        var generator = RandomGenerator(seed: 5)
        let weights = (0..<(rows * K)).map { _ in generator.nextNormal() }
        for target in [SparseGPT.Target.fraction(0.5), .nOfM(keep: 4, group: 8)] {
            var fast = weights, reference = weights
            var fastKept = [Bool](repeating: true, count: rows * K), referenceKept = fastKept
            let options = SparseGPT.Options(blockSize: 16)
            try SparseGPT.prune(weights: &fast, rows: rows, columns: K, hessian: hessian, target: target, options: options, kept: &fastKept)
            try SparseGPT.prune(weights: &reference, rows: rows, columns: K, hessian: hessian, target: target, options: options,
                                lazyBatches: false, kept: &referenceKept)
            #expect(fastKept == referenceKept)
            #expect(zip(fast, reference).allSatisfy { abs($0 - $1) <= Self.batchTolerance * max(1, abs($1)) })
        }
    }

    @Test func testNofM_everyGroupOfEveryMethodKeepsExactlyN() throws {
        let base = try model(width: 16)
        let statistics = calibration(for: base, norms: { Double($0 % 5 + 1) })
        for method in PruningMethod.allCases {
            for pattern in [SparsityPattern(keep: 2, group: 4), SparsityPattern(keep: 4, group: 8)] {
                let result = try Pruner.prune(base, plan: PruningPlan(method: method, sparsity: pattern.sparsity, pattern: pattern),
                                              calibration: statistics)
                for tensor in base.layout.tensors where tensor.role.isLinearWeight {
                    let matrix = OutputMajorMatrix(tensor, parameters: result.model.parameters.pointer)
                    let entry = result.mask[tensor.name]!
                    for r in 0..<matrix.rows {
                        for start in stride(from: 0, to: matrix.columns, by: pattern.group) {
                            let keptInGroup = (start..<(start + pattern.group)).filter { entry.isKept(matrix.arenaIndex(r, $0)) }.count
                            #expect(keptInGroup == pattern.keep, "\(method) \(pattern) \(tensor.name) row \(r) group \(start)")
                        }
                    }
                    #expect(entry.count == tensor.count)
                }
                #expect(result.mask.holds(in: result.model.parameters.pointer))
            }
        }
    }

    @Test func testPlan_impossibleRequestsAreRefusedWithTheFix() throws {
        let refusals: [(PruningPlan, String)] = [
            (PruningPlan(method: .wanda, sparsity: 1), "outside [0, 1)"),
            (PruningPlan(method: .wanda, sparsity: -0.1), "outside [0, 1)"),
            (PruningPlan(method: .magnitude, sparsity: .nan), "outside [0, 1)"),
            (PruningPlan(method: .wanda, sparsity: 0.5, pattern: SparsityPattern(keep: 2, group: 4), structured: .heads), "cannot be asked of structured"),
            (PruningPlan(method: .sparsegpt, sparsity: 0.5, structured: .neurons), "no structured form"),
            (PruningPlan(method: .wanda, sparsity: 0.5, scope: .global), "no global threshold"),
            (PruningPlan(method: .magnitude, sparsity: 0.3, pattern: SparsityPattern(keep: 2, group: 4)), "disagrees with the pattern"),
        ]
        for (plan, phrase) in refusals {
            let error = #expect(throws: WhittleError.self, "\(plan)") { try plan.validate() }
            #expect(error?.kind == .invalidConfig && error?.message.contains(phrase) == true, "\(error?.message ?? "")")
            #expect(error?.hint.isEmpty == false)
        }
        // Width 12: rows of 12 inputs take 2:4 but not 4:8.
        let layout = ParameterLayout(GPTDimensions(L: 1, NH: 2, C: 12, maxT: 4, V: 5))
        try PruningPlan(method: .magnitude, sparsity: 0.5, pattern: SparsityPattern(keep: 2, group: 4)).check(layout: layout)
        let error = #expect(throws: WhittleError.self) {
            try PruningPlan(method: .magnitude, sparsity: 0.5, pattern: SparsityPattern(keep: 4, group: 8)).check(layout: layout)
        }
        #expect(error?.message.contains("do not divide") == true)
        for bad in ["2", "4:2", "0:4", "2:4:8", "a:b", "2:100"] {
            #expect(throws: WhittleError.self, "\(bad)") { try SparsityPattern.parse(bad) }
        }
    }
}
