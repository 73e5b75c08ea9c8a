// The sensitivity scan and the plans chosen from it: a cell equals the KL divergence `Comparator`
// measures for the same one-tensor variant on the same windows, fewer bits cost more KLD, the
// knapsack's plan is the best assignment a brute-force search finds within the size and never
// exceeds it, sizes are the stored bytes, maps survive JSON, and bad targets and foreign maps are refused.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct SensitivityTests {
    static func model() throws -> GPTModel { try RoundingTests.model(seed: 5) }

    @Test func testScan_cellEqualsComparatorOnTheSameWindowsAndOrdersTypes() throws {
        let model = try Self.model()
        let tokens = RoundingTests.tokens(2000, seed: 4)
        let map = try SensitivityScan.run(model: model, tokens: tokens, source: "random", samples: 5, seed: 11,
                                          formats: [.q8_0, .q4_0, .f16])
        #expect(map.rows.count == 9 && map.rows.map(\.tensor).first == "wte.weight")
        for row in map.rows {
            #expect(row.kld(.q4_0)! > row.kld(.q8_0)!, "\(row.tensor)")
            #expect(row.kld(.q8_0)! > 0 && row.kld(.f32) == 0)
        }
        let cell = map.rows.first { $0.tensor == "h.1.mlp.c_fc.weight" }!.kld(.q4_0)!
        let direct = try Self.directDivergence(model, tokens: tokens, samples: 5, seed: 11, tensor: "h.1.mlp.c_fc.weight", format: .q4_0)
        #expect(abs(direct - cell) <= 1e-9 + 1e-6 * cell, "\(direct) vs \(cell)")
    }

    /// Cells of a later block start from the base's kept residual stream; with a last batch shorter than
    /// the others (11 windows: 8 + 3) every block's cells still equal whole forwards of the one-tensor variant.
    @Test func testScan_cellsFromKeptBlockInputsEqualWholeForwards() throws {
        let model = try Self.model()
        let tokens = RoundingTests.tokens(2000, seed: 4)
        let map = try SensitivityScan.run(model: model, tokens: tokens, source: "random", samples: 11, seed: 3, formats: [.q4_0])
        for tensor in ["wte.weight", "h.0.attn.c_attn.weight", "h.1.attn.c_proj.weight", "h.1.mlp.c_proj.weight"] {
            let cell = map.rows.first { $0.tensor == tensor }!.kld(.q4_0)!
            let direct = try Self.directDivergence(model, tokens: tokens, samples: 11, seed: 3, tensor: tensor, format: .q4_0)
            #expect(abs(direct - cell) <= 1e-9 + 1e-6 * cell, "\(tensor): \(direct) vs \(cell)")
        }
    }

    /// KL(base ‖ variant with `tensor` alone at `format`) from `Comparator` on the windows the scan draws
    /// (seed `seed`, offsets below count − T + 1), every window run whole.
    static func directDivergence(_ model: GPTModel, tokens: [Int32], samples: Int, seed: UInt64, tensor: String,
                                 format: WeightFormat) throws -> Double {
        var generator = RandomGenerator(seed: seed)
        let T = model.config.contextLength
        var windows: [Int32] = []
        for _ in 0..<samples {
            let offset = generator.nextInt(below: tokens.count - T + 1)
            windows += tokens[offset..<(offset + T)]
        }
        windows.append(0)   // the evaluator's windows predict one token further; the scan ignores targets
        let store = WeightStore(layout: model.layout, parameters: model.parameters.pointer) { $0.name == tensor ? format : .f32 }
        let direct = try withExtendedLifetime((model, store)) {
            try Comparator.compare(base: model.weights, variants: [store.weights], tokens: windows, batchSize: 2)
        }
        return direct.variants[0].divergence.mean
    }

    /// A hand-made map of three tensors: the knapsack's choice equals an exhaustive search's at every size.
    @Test func testPlan_isTheBestAssignmentWithinTheSize() throws {
        let rows = [
            SensitivityMap.Row(tensor: "wte.weight", parameters: 64 * 32, rowLength: 32, divergence: [.q8_0: 0.001, .q5_0: 0.004, .q4_0: 0.02]),
            SensitivityMap.Row(tensor: "h.0.attn.c_attn.weight", parameters: 32 * 96, rowLength: 32, divergence: [.q8_0: 0.0005, .q5_0: 0.001, .q4_0: 0.003]),
            SensitivityMap.Row(tensor: "h.0.mlp.c_proj.weight", parameters: 128 * 32, rowLength: 128, divergence: [.q8_0: 0.002, .q5_0: 0.009, .q4_0: 0.05]),
        ]
        let map = SensitivityMap(formats: [.q8_0, .q5_0, .q4_0], rows: rows, fixedBytes: 512, parameterCount: 64 * 32 + 32 * 96 + 128 * 32 + 128,
                                 source: "hand", samples: 1, seed: 1, contextLength: 8, seconds: 0)
        let options: [WeightFormat] = [.f32, .q8_0, .q5_0, .q4_0]
        for target in stride(from: 4.9, through: 33, by: 0.37) {
            let chosen = try map.plan(targetBitsPerWeight: target)
            #expect(map.bitsPerWeight(chosen) <= target)
            var best = Double.infinity
            for a in options { for b in options { for c in options {
                let assignment = [a, b, c]
                if map.bitsPerWeight(assignment) <= target { best = min(best, map.predictedDivergence(assignment)!) }
            } } }
            #expect(abs(map.predictedDivergence(chosen)! - best) < 1e-12, "target \(target): \(chosen)")
        }
        let tooSmall = #expect(throws: WhittleError.self) { try map.plan(targetBitsPerWeight: 4.0) }
        #expect(tooSmall?.message.contains("below what any plan") == true && tooSmall?.hint.contains("or more") == true)
        #expect(throws: WhittleError.self) { try map.plan(targetBitsPerWeight: .nan) }
        // The plan that stores an assignment gives the same formats back.
        let assignment: [WeightFormat] = [.q8_0, .q4_0, .q5_0]
        let plan = map.quantizationPlan(assignment)
        #expect(plan.embeddingFormat == .q8_0)
        #expect(map.assignment { name in plan.rules.last { $0.pattern == name }?.format ?? (name == "wte.weight" ? plan.embeddingFormat : plan.defaultFormat) } == assignment)
    }

    @Test func testMap_bytesAreTheStoresAndJSONRoundTrips() throws {
        let model = try Self.model()
        let map = try SensitivityScan.run(model: model, tokens: RoundingTests.tokens(600), source: "random", samples: 2, seed: 1,
                                          formats: [.q5_1, .q4_0])
        let assignment = map.rows.enumerated().map { $0.offset % 2 == 0 ? WeightFormat.q4_0 : .q5_1 }
        let formatOf = Dictionary(uniqueKeysWithValues: zip(map.rows.map(\.tensor), assignment))
        let store = WeightStore(layout: model.layout, parameters: model.parameters.pointer) { formatOf[$0.name] ?? .f32 }
        #expect(map.bytes(assignment) == store.payloadBytes)
        let again = try SensitivityMap.parse(Array(try map.json().utf8), source: "scan.json")
        #expect(again == map)
        try again.check(against: model.layout, source: "scan.json")
        var generator = RandomGenerator(seed: 3)
        let shallower = try GPTModel.initialized(config: ModelConfig(layerCount: 1, headCount: 2, embeddingWidth: 64, contextLength: 16, vocabularySize: 65),
                                                 generator: &generator)
        let foreign = #expect(throws: WhittleError.self) { try map.check(against: shallower.layout, source: "scan.json") }
        #expect(foreign?.message.contains("another model") == true)
        #expect(throws: WhittleError.self) { try SensitivityMap.parse(Array("{}".utf8), source: "scan.json") }
    }
}
