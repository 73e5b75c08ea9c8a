// Models whose blocks differ in heads and MLP width (what structured pruning and narrow students
// produce): their tensor table, their config.json (transformers' pruned_heads / n_inner, Whittle's
// mlp_widths), and a whole run over them — training, a checkpoint, bit-exact resume, evaluation and
// KV-cached decoding. Their gradients are checked against finite differences in ModelGradientCheckTests.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite(.serialized) struct NonUniformShapeTests {
    /// Relative agreement of decoder and forward logits (float32, different summation order).
    static let decoderTolerance: Float = 1e-4
    /// n_head 2 over width 16 (heads 8 wide): block 0 keeps both heads and a 4C MLP, block 1 keeps one head and 24 neurons.
    static let shapes = [LayerShape(heads: 2, hiddenWidth: 64), LayerShape(heads: 1, hiddenWidth: 24)]

    func config(vocabularySize: Int = 30) -> ModelConfig {
        ModelConfig(layerCount: 2, headCount: 2, embeddingWidth: 16, contextLength: 16, vocabularySize: vocabularySize,
                    layerShapes: Self.shapes)
    }

    @Test func testLayout_eachBlockHasItsOwnShapesRolesAndContiguousOffsets() throws {
        let layout = ParameterLayout(config().dimensions)
        #expect(layout.tensor(named: "h.1.attn.c_attn.weight")?.shape == [16, 24])
        #expect(layout.tensor(named: "h.1.attn.c_attn.bias")?.shape == [24])
        #expect(layout.tensor(named: "h.1.attn.c_proj.weight")?.shape == [8, 16])
        #expect(layout.tensor(named: "h.1.mlp.c_fc.weight")?.shape == [16, 24])
        #expect(layout.tensor(named: "h.1.mlp.c_proj.weight")?.shape == [24, 16])
        #expect(layout.tensor(named: "h.0.mlp.c_fc.weight")?.shape == [16, 64])
        #expect(layout.tensor(named: "h.1.mlp.c_proj.weight")?.role == .weight(.mlpDown))
        #expect(layout.tensor(named: "h.1.mlp.c_proj.weight")?.layer == 1)
        #expect(layout.tensor(named: "wte.weight")?.orientation == .outputMajor)
        #expect(layout.tensor(named: "h.0.ln_2.bias")?.role == .normBias(.mlp))
        var next = 0
        for tensor in layout.tensors {
            #expect(tensor.byteOffset == next * 4 && tensor.format == .f32, "\(tensor.name)")
            next += tensor.count
        }
        #expect(next == layout.totalCount)
    }

    @Test func testConfigJSON_nonUniformBlocksRoundTripInTransformersTerms() throws {
        let original = config()
        let bytes = original.huggingFaceJSON()
        let json = try JSONValue.parse(bytes)
        #expect(json["pruned_heads"] == .object(["1": .array([.int(1)])]))
        #expect(json["n_inner"] == .int(64))
        #expect(json["whittle"]?["mlp_widths"] == .array([.int(64), .int(24)]))
        #expect(try ModelConfig(huggingFaceJSON: bytes) == original)
        // A uniform model keeps transformers' defaults.
        let uniform = ModelConfig(layerCount: 2, headCount: 2, embeddingWidth: 16, contextLength: 16, vocabularySize: 30)
        let plain = try JSONValue.parse(uniform.huggingFaceJSON())
        #expect(plain["n_inner"] == .null && plain["pruned_heads"] == nil && plain["whittle"]?["mlp_widths"] == nil)
        #expect(try ModelConfig(huggingFaceJSON: uniform.huggingFaceJSON()).isUniform)
    }

    /// A config.json as transformers writes one after `model.prune_heads({0: [0, 2]})` with n_inner set.
    func transformersConfig(prunedHeads: String, inner: String = "100") -> [UInt8] {
        Array("""
        {"model_type": "gpt2", "n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 16, "vocab_size": 30,
         "n_inner": \(inner), "pruned_heads": \(prunedHeads)}
        """.utf8)
    }

    @Test func testConfigJSON_readsTransformersPrunedHeadsAndInnerWidth() throws {
        let config = try ModelConfig(huggingFaceJSON: transformersConfig(prunedHeads: #"{"0": [0, 2, 2]}"#))
        #expect(config.layers == [LayerShape(heads: 2, hiddenWidth: 100), LayerShape(heads: 4, hiddenWidth: 100)])
        for bad in [#"{"0": [0, 1, 2, 3]}"#, #"{"2": [0]}"#, #"{"x": [0]}"#, #"{"0": [4]}"#, #"{"0": [-1]}"#, #"{"0": 1}"#, "[]"] {
            let error = #expect(throws: WhittleError.self, "\(bad)") { try ModelConfig(huggingFaceJSON: transformersConfig(prunedHeads: bad)) }
            #expect(error?.message.contains("pruned_heads") == true, "\(bad)")
        }
        #expect(throws: WhittleError.self) { try ModelConfig(huggingFaceJSON: transformersConfig(prunedHeads: "{}", inner: "0")) }
    }

    /// A non-uniform model saved as a model directory next to a small corpus, and a run config starting from it.
    func startingPoint(in directory: String) throws -> TrainingConfig {
        var config = try TinyTraining.config(in: directory)
        let data = try TrainingRun.prepareData(config)
        var generator = RandomGenerator(seed: 5)
        let model = try GPTModel.initialized(config: self.config(vocabularySize: data.tokenizer.vocabularySize),
                                             generator: &generator)
        try ModelDirectory.save(model: model, tokenizer: data.tokenizer, to: directory + "/base")
        config.initFrom = directory + "/base"
        return config
    }

    @Test func testTrainingRun_nonUniformModelTrainsCheckpointsAndResumesBitForBit() throws {
        let directory = TemporaryDirectory()
        let config = try startingPoint(in: directory.path)
        let straight = try TrainingRun.start(config: config, directory: directory.path + "/straight")
        #expect(straight.trainer.model.config.layers == Self.shapes)
        let reference = try (0..<8).map { _ in try straight.step().loss }
        #expect(reference.last! < reference.first!)

        let first = try TrainingRun.start(config: config, directory: directory.path + "/split")
        var split = try (0..<4).map { _ in try first.step().loss }   // checkpoint_interval = 4 writes ckpt-000004
        first.close()   // the writing process ends; its lock goes with it
        let second = try TrainingRun.resume(directory: directory.path + "/split")
        #expect(second.trainer.model.config.layers == Self.shapes)
        split += try (0..<4).map { _ in try second.step().loss }
        #expect(split == reference)
        #expect(second.trainer.model.parameters.array == straight.trainer.model.parameters.array)

        // The final checkpoint loads as a model directory with the same shapes, and evaluates.
        let loaded = try ModelDirectory.load(directory.path + "/split")
        #expect(loaded.model.config == second.trainer.model.config)
        let tokens = try loaded.tokenizer.encode(String(repeating: "the lazy dog jumps. ", count: 8))
        let result = try Evaluator.evaluate(model: loaded.model, tokens: tokens)
        #expect(result.loss.isFinite && result.loss < log(Double(loaded.tokenizer.vocabularySize)))
    }

    @Test func testDecoder_nonUniformModelMatchesTheFullForwardPass() throws {
        var generator = RandomGenerator(seed: 9)
        let model = try GPTModel.initialized(config: config(), generator: &generator)
        let tokens: [Int32] = [3, 17, 4, 4, 29, 0, 8, 12, 21, 5]
        let arena = ActivationArena(dimensions: model.config.dimensions, B: 1, T: tokens.count)
        for (i, token) in tokens.enumerated() { arena.tokens[i] = token }
        GPT.forward(weights: model.weights, arena: arena, withTargets: false)
        let V = model.config.vocabularySize
        let decoder = GPTDecoder(weights: model.weights)
        decoder.prefill(Array(tokens.prefix(3)))
        #expect(maxRelativeError(decoder.logits.array, Array(arena.logits.array[(2 * V)..<(3 * V)])) < Self.decoderTolerance)
        for position in 3..<tokens.count {
            decoder.decode(tokens[position])
            let expected = Array(arena.logits.array[(position * V)..<((position + 1) * V)])
            #expect(maxRelativeError(decoder.logits.array, expected) < Self.decoderTolerance, "position \(position)")
        }
    }
}
