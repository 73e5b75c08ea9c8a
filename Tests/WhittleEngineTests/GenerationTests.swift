// Generation: the KV-cached decoder against the full forward pass, greedy generation past the
// context against a naive windowed loop, and seeded sampling.

import Testing
@testable import WhittleEngine

@Suite struct GenerationTests {
    /// Relative agreement of decoder and forward logits (float32, different summation order).
    static let tolerance: Float = 1e-4

    func fixtureModel() throws -> GPTModel {
        let config = ModelConfig(layerCount: 2, headCount: 4, embeddingWidth: 32, contextLength: 16, vocabularySize: 65)
        let model = try GPTModel(config: config)
        model.parameters.copy(from: try Fixture.parameters(model.layout))
        return model
    }

    /// Logits of every position of `tokens` by the batched forward pass.
    func forwardLogits(_ model: GPTModel, _ tokens: [Int32]) -> [[Float]] {
        let arena = ActivationArena(dimensions: model.config.dimensions, B: 1, T: tokens.count)
        for (i, token) in tokens.enumerated() { arena.tokens[i] = token }
        GPT.forward(weights: ModelWeights(layout: model.layout, parameters: model.parameters.pointer), arena: arena, withTargets: false)
        let V = model.config.vocabularySize
        return (0..<tokens.count).map { Array(arena.logits.array[($0 * V)..<(($0 + 1) * V)]) }
    }

    @Test func testDecoder_prefillThenDecodeMatchesTheFullForwardPass() throws {
        let model = try fixtureModel()
        let tokens: [Int32] = [45, 12, 56, 56, 3, 57, 2, 44, 61, 23, 31, 18]
        let expected = forwardLogits(model, tokens)
        let decoder = GPTDecoder(weights: model.weights)
        decoder.prefill(Array(tokens.prefix(5)))
        #expect(maxRelativeError(decoder.logits.array, expected[4]) < Self.tolerance)
        for position in 5..<tokens.count {
            decoder.decode(tokens[position])
            #expect(maxRelativeError(decoder.logits.array, expected[position]) < Self.tolerance, "position \(position)")
        }
        #expect(decoder.length == tokens.count)
    }

    @Test func testGenerator_greedyPastTheContextMatchesANaiveWindowedLoop() throws {
        let model = try fixtureModel()
        let prompt: [Int32] = [45, 12, 56]
        let count = 30   // runs past the 16-token context
        let (tokens, stats) = try Generator.generate(model: model, prompt: prompt, count: count,
                                                     settings: SamplingSettings(temperature: 0, topK: nil, seed: 1))
        var sequence = prompt
        for _ in 0..<count {
            let logits = forwardLogits(model, Array(sequence.suffix(16))).last!
            sequence.append(Int32(logits.indices.max { logits[$0] < logits[$1] }!))
        }
        #expect(tokens == Array(sequence.dropFirst(prompt.count)))
        #expect(stats.generatedTokens == count)
        #expect(stats.windowRecomputes > 0)
    }

    @Test func testGenerator_samplingRepeatsForASeedAndRespectsTopK() throws {
        let model = try fixtureModel()
        let settings = SamplingSettings(temperature: 1, topK: 3, seed: 9)
        let first = try Generator.generate(model: model, prompt: [1, 2], count: 20, settings: settings).tokens
        let again = try Generator.generate(model: model, prompt: [1, 2], count: 20, settings: settings).tokens
        #expect(first == again)
        let other = try Generator.generate(model: model, prompt: [1, 2], count: 20,
                                           settings: SamplingSettings(temperature: 1, topK: 3, seed: 10)).tokens
        #expect(first != other)
        // top-k = 1 leaves only the most likely token: sampling becomes greedy.
        let topOne = try Generator.generate(model: model, prompt: [1, 2], count: 20,
                                            settings: SamplingSettings(temperature: 1, topK: 1, seed: 9)).tokens
        let greedy = try Generator.generate(model: model, prompt: [1, 2], count: 20,
                                            settings: SamplingSettings(temperature: 0, topK: nil, seed: 9)).tokens
        #expect(topOne == greedy)
        #expect(throws: WhittleError.self) {
            _ = try Generator.generate(model: model, prompt: [], count: 1, settings: settings)
        }
    }
}
