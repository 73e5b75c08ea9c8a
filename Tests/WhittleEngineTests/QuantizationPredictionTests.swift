// What a plan predicts before anything is rounded — the weights' bytes, bits per weight and the GGUF
// file's exact size — against what rounding and serializing really produce, for the tiny sample
// model under several plans, and for a bias-free shape (whose GGUF carries zero biases).

import Foundation
import Testing
import WhittleTestSupport

@testable import WhittleEngine

@Suite struct QuantizationPredictionTests {
    static let base = Repository.path("sample-models/shakespeare-char-tiny")

    static let plans: [QuantizationPlan] = [
        QuantizationPlan(defaultFormat: .q4_0),
        QuantizationPlan(defaultFormat: .q8_0, embeddingFormat: .f16),
        QuantizationPlan(defaultFormat: .f16),
        QuantizationPlan(defaultFormat: .q4_1, rules: [.init(pattern: "ffn_down", format: .q8_0), .init(pattern: "blk.0.*", format: .q5_0)]),
    ]

    func expectPredictionMatches(_ model: GPTModel, tokenizer: CharTokenizer, plan: QuantizationPlan) throws {
        let prediction = try plan.predict(config: model.config, tokenizer: tokenizer, name: "variant-name")
        let formats = Dictionary(uniqueKeysWithValues: zip(model.layout.tensors.map(\.name), prediction.formats))
        let store = try Rounding.quantize(model: model, plan: { formats[$0.name]! }, method: .rtn, calibration: nil).store
        let bytes = try GPT2GGUF.serialize(store: store, config: model.config, tokenizer: tokenizer, name: "variant-name")
        #expect(prediction.fileBytes == bytes.count, "\(plan)")
        #expect(prediction.weightBytes == store.payloadBytes, "\(plan)")
        #expect(prediction.bitsPerWeight == Double(store.payloadBytes * 8) / Double(model.parameterCount))
    }

    @Test func testPredict_equalsTheRoundedStoreAndTheWrittenFile() throws {
        let loaded = try LoadedModel.load(Self.base)
        let model = try #require(loaded.floatModel)
        for plan in Self.plans {
            try expectPredictionMatches(model, tokenizer: loaded.tokenizer, plan: plan)
        }
    }

    @Test func testPredict_aBiasFreeModelCountsItsZeroBiases() throws {
        let loaded = try LoadedModel.load(Self.base)
        var config = loaded.config
        config.hasBias = false
        let model = try GPTModel(config: config)
        try expectPredictionMatches(model, tokenizer: loaded.tokenizer, plan: QuantizationPlan(defaultFormat: .q4_0))
    }

    @Test func testPredict_refusesWhatResolveRefuses() throws {
        let layout = try LoadedModel.load(Self.base).weights.layout
        let plan = QuantizationPlan(defaultFormat: .q4_0, rules: [.init(pattern: "no_such_tensor", format: .q8_0)])
        #expect(throws: WhittleError.self) {
            try plan.predict(layout: layout)
        }
    }
}
