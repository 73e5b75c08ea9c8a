// LoadedModel: one entry point for a safetensors model directory, a directory holding model.gguf
// and a bare .gguf file, each running its stored formats through the one forward pass.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct LoadedModelTests {
    static let tokens: [Int32] = [20, 43, 50, 50, 1, 0, 14, 3]

    func logits(_ model: LoadedModel) -> [Float] {
        let arena = ActivationArena(dimensions: model.weights.dimensions, B: 1, T: Self.tokens.count)
        for (i, token) in Self.tokens.enumerated() { arena.tokens[i] = token }
        GPT.forward(weights: model.weights, arena: arena, withTargets: false)
        return arena.logits.array
    }

    @Test func testLoad_safetensorsDirectoryGGUFDirectoryAndGGUFFileAgree() throws {
        let directory = Repository.path("sample-models/shakespeare-char-tiny")
        let float = try LoadedModel.load(directory)
        #expect(float.floatModel != nil && float.weightsFile.hasSuffix("model.safetensors"))
        #expect(float.weightBytes == float.weights.layout.totalCount * 4 && float.bitsPerWeight == 32)
        let scratch = TemporaryDirectory()
        let store = WeightStore(layout: float.floatModel!.layout, parameters: float.floatModel!.parameters.pointer) { _ in .f32 }
        try FileManager.default.createDirectory(atPath: scratch.path("variant"), withIntermediateDirectories: true)
        try GPT2GGUF.write(store: store, config: float.config, tokenizer: float.tokenizer, name: "tiny",
                           to: scratch.path("variant/" + LoadedModel.ggufName))
        let viaDirectory = try LoadedModel.load(scratch.path("variant"))
        let viaFile = try LoadedModel.load(scratch.path("variant/" + LoadedModel.ggufName))
        #expect(viaDirectory.floatModel == nil && viaDirectory.config == float.config && viaDirectory.tokenizer == float.tokenizer)
        #expect(viaDirectory.weightsFileBytes > viaDirectory.weightBytes)
        let expected = logits(float)
        #expect(logits(viaDirectory) == expected && logits(viaFile) == expected)
    }

    @Test func testLoad_missingPathsSayWhatWasExpected() {
        let error = #expect(throws: WhittleError.self) { try LoadedModel.load("/nonexistent/model") }
        #expect(error?.message.contains("no model directory") == true)
        let file = #expect(throws: WhittleError.self) { try LoadedModel.load("/nonexistent/model.gguf") }
        #expect(file != nil)
    }
}
