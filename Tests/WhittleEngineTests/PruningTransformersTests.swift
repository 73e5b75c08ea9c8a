// Structured variants against Hugging Face transformers: the tiny sample model with a quarter of its
// heads and then a quarter of its MLP neurons removed (magnitude importance: deterministic, no
// calibration), exported as a dense directory, and with only neurons removed (a plain `n_inner`
// directory), were loaded by transformers 5.24 (`bench/pytorch/pruned_logits.py`); the logits it
// computed are the fixtures. Whittle's pruned models must give the same logits.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct PruningTransformersTests {
    /// Absolute logit agreement with transformers (fp32 both, different summation order).
    static let tolerance: Float = 1e-4

    func fixture(_ name: String) throws -> (tokens: [Int32], logits: [[Float]]) {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("pruned-transformers/\(name).json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let tokens = (json["tokens"] as! [Int]).map(Int32.init)
        let logits = (json["logits"] as! [[Double]]).map { $0.map(Float.init) }
        return (tokens, logits)
    }

    func logits(_ model: GPTModel, _ tokens: [Int32]) -> [Float] {
        let arena = ActivationArena(dimensions: model.config.dimensions, B: 1, T: tokens.count)
        for (i, token) in tokens.enumerated() { arena.tokens[i] = token }
        GPT.forward(weights: model.weights, arena: arena, withTargets: false)
        return arena.logits.array
    }

    func expectMatch(_ model: GPTModel, _ name: String) throws {
        let (tokens, expected) = try fixture(name)
        let actual = logits(model, tokens)
        let flat = expected.flatMap { $0 }
        #expect(actual.count == flat.count)
        let worst = zip(actual, flat).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= Self.tolerance, "\(name): largest logit difference \(worst)")
    }

    @Test func testStructuredVariants_matchTransformersLogits() throws {
        let base = try ModelDirectory.load(Repository.path("sample-models/shakespeare-char-tiny")).model
        let heads = try StructuredPruner.prune(base, plan: PruningPlan(method: .magnitude, sparsity: 0.25, structured: .heads), calibration: nil)
        let both = try StructuredPruner.prune(heads.model, plan: PruningPlan(method: .magnitude, sparsity: 0.25, structured: .neurons), calibration: nil)
        #expect(both.model.config.layers.allSatisfy { $0 == LayerShape(heads: 3, hiddenWidth: 384) })
        try expectMatch(both.model, "tiny-heads-neurons-export")            // the pruned model itself
        try expectMatch(try ModelExport.padded(both.model), "tiny-heads-neurons-export")   // what export writes
        let neurons = try StructuredPruner.prune(base, plan: PruningPlan(method: .magnitude, sparsity: 0.25, structured: .neurons), calibration: nil)
        try expectMatch(neurons.model, "tiny-neurons")
    }
}
