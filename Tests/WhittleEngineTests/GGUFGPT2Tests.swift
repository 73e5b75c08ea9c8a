// A Whittle model as llama.cpp's `gpt2` GGUF: the reference files (written by the `gguf` Python
// package) read back to exactly the sample model's weights, config and tokenizer; Whittle's writer
// reproduces them byte for byte; a written file reloads to the same store and bit-identical logits;
// shapes llama.cpp cannot express are refused; bias-free models get zero biases.

import Foundation
import Testing
@testable import WhittleEngine
import WhittleTestSupport

@Suite struct GGUFGPT2Tests {
    static let sampleName = "shakespeare-char-tiny"
    static let tokens: [Int32] = [20, 43, 50, 50, 53, 1, 61, 53, 56, 50, 42, 2, 0, 14, 26, 33]

    /// The sample model, loaded (and its manifest verified) once for the suite; tests only read it.
    static let sampleModel = Result { try ModelDirectory.load(Repository.path("sample-models/" + sampleName)) }

    func sample() throws -> (model: GPTModel, tokenizer: CharTokenizer) {
        let loaded = try Self.sampleModel.get()
        return (loaded.model, loaded.tokenizer)
    }

    func logits(_ weights: ModelWeights) -> [Float] {
        let arena = ActivationArena(dimensions: weights.dimensions, B: 1, T: Self.tokens.count)
        for (i, token) in Self.tokens.enumerated() { arena.tokens[i] = token }
        GPT.forward(weights: weights, arena: arena, withTargets: false)
        return arena.logits.array
    }

    func bytes(_ store: WeightStore, _ tensor: ParameterTensor) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: store.data(tensor), count: tensor.byteCount))
    }

    /// "identical", or where two byte strings first differ.
    func comparison(_ a: [UInt8], _ b: [UInt8]) -> String {
        guard let first = (0..<min(a.count, b.count)).first(where: { a[$0] != b[$0] }) else {
            return a.count == b.count ? "identical" : "sizes \(a.count) and \(b.count)"
        }
        return "first difference at byte \(first)"
    }

    @Test func testGGUFGPT2_referenceF32FileHoldsTheSampleModel() throws {
        let (model, tokenizer) = try sample()
        let read = try GPT2GGUF.read(path: GGUFFixture.path("tiny-f32.gguf"))
        #expect(read.config == model.config && read.tokenizer == tokenizer && read.name == Self.sampleName)
        for (stored, tensor) in zip(read.store.tensors, model.layout.tensors) {
            #expect(stored.name == tensor.name && stored.format == .f32 && stored.shape == tensor.shape
                    && stored.orientation == tensor.orientation, "\(tensor.name)")
            let expected = Array(UnsafeRawBufferPointer(start: model.parameters.pointer + tensor.offset, count: tensor.count * 4))
            #expect(bytes(read.store, stored) == expected, "\(tensor.name)")
        }
        // The file itself holds matrices as [out, in] rows: row o of c_attn is column o of the Conv1D weight.
        let file = try GGUFFile(path: GGUFFixture.path("tiny-f32.gguf"))
        let info = try #require(file.tensor(named: "blk.2.attn_qkv.weight"))
        let row = file.data(info).withUnsafeBytes { raw in (0..<128).map { raw.loadUnaligned(fromByteOffset: (300 * 128 + $0) * 4, as: Float.self) } }
        let offset = try #require(model.layout.tensor(named: "h.2.attn.c_attn.weight")).offset
        #expect(row == (0..<128).map { model.parameters[offset + $0 * 384 + 300] })
        #expect(logits(read.store.weights) == logits(model.weights))
    }

    @Test(arguments: [("tiny-f32.gguf", WeightFormat.f32), ("tiny-q8_0.gguf", .q8_0)])
    func testGGUFGPT2_writerReproducesTheReferenceFilesByteForByte(file: String, format: WeightFormat) throws {
        let (model, tokenizer) = try sample()
        let store = WeightStore(layout: model.layout, parameters: model.parameters.pointer) { _ in format }
        let written = try GPT2GGUF.serialize(store: store, config: model.config, tokenizer: tokenizer, name: Self.sampleName)
        let reference = try GGUFFixture.bytes(file)
        #expect(comparison(written, reference) == "identical")
    }

    @Test func testGGUFGPT2_q4_0ReferenceFileReadsWhenWhittleRunsQ4_0() throws {
        let file = try GGUFFile(path: GGUFFixture.path("tiny-q4_0-embd-q8_0.gguf"))
        guard let q4_0 = GGMLType.withID(2)?.weightFormat else {
            let error = try #require(throws: WhittleError.self) { try GPT2GGUF.read(file) }
            #expect(error.message.contains("Q4_0") && error.message.contains("blk.0.attn_qkv.weight"))
            return
        }
        let read = try GPT2GGUF.read(file)
        #expect(read.store.tensor(named: "wte.weight")?.format == .q8_0 && read.store.tensor(named: "h.0.mlp.c_fc.weight")?.format == q4_0)
        let (model, tokenizer) = try sample()
        let store = WeightStore(layout: model.layout, parameters: model.parameters.pointer) { $0.role == .tokenEmbedding ? .q8_0 : q4_0 }
        let written = try GPT2GGUF.serialize(store: store, config: model.config, tokenizer: tokenizer, name: Self.sampleName)
        #expect(comparison(written, try GGUFFixture.bytes("tiny-q4_0-embd-q8_0.gguf")) == "identical")
    }

    @Test(arguments: [WeightFormat.f32, .q8_0, .f16, .bf16])
    func testGGUFGPT2_writtenFileReloadsToTheSameStoreAndLogits(format: WeightFormat) throws {
        let (model, tokenizer) = try sample()
        let store = WeightStore(layout: model.layout, parameters: model.parameters.pointer) { _ in format }
        let directory = TemporaryDirectory()
        let path = directory.path("model.gguf")
        try GPT2GGUF.write(store: store, config: model.config, tokenizer: tokenizer, name: "x", to: path)
        let read = try GPT2GGUF.read(path: path)
        #expect(read.config == model.config && read.tokenizer == tokenizer && read.name == "x")
        #expect(read.store.tensors == store.tensors && read.store.byteCount == store.byteCount)
        for tensor in store.tensors { #expect(bytes(read.store, tensor) == bytes(store, tensor), "\(tensor.name)") }
        let expected = logits(store.weights)
        #expect(logits(read.store.weights) == expected)
        if format == .f32 { #expect(expected == logits(model.weights)) }
    }

    /// A small random model (width 32, so rows are whole Q8_0 blocks) and the sample tokenizer.
    func small(hasBias: Bool = true, shapes: [LayerShape]? = nil) throws -> (GPTModel, CharTokenizer) {
        let config = ModelConfig(layerCount: 2, headCount: 4, embeddingWidth: 32, contextLength: 16, vocabularySize: 65,
                                 hasBias: hasBias, layerShapes: shapes)
        var generator = RandomGenerator(seed: 11)
        let model = try GPTModel.initialized(config: config, generator: &generator)
        for i in 0..<model.parameterCount { model.parameters[i] += generator.nextNormal() * 0.05 }   // nonzero biases and gains
        return (model, try sample().tokenizer)
    }

    @Test func testGGUFGPT2_biasFreeModelsGetZeroBiasesAndTheSameLogits() throws {
        let (model, tokenizer) = try small(hasBias: false)
        let store = WeightStore(layout: model.layout, parameters: model.parameters.pointer) { _ in .q8_0 }
        let bytes = try GPT2GGUF.serialize(store: store, config: model.config, tokenizer: tokenizer, name: "bias-free")
        let file = try GGUFFile(bytes: bytes)
        #expect(file.tensors.count == 4 + 2 * 12 && file.tensor(named: "output.weight") == nil)
        for name in ["output_norm.bias", "blk.1.attn_norm.bias", "blk.0.attn_qkv.bias", "blk.1.ffn_up.bias", "blk.0.ffn_down.bias"] {
            let info = try #require(file.tensor(named: name))
            #expect(info.type.name == "F32" && file.data(info).allSatisfy { $0 == 0 }, "\(name)")
        }
        #expect(file.tensor(named: "blk.0.ffn_up.bias")?.dimensions == [128])
        let read = try GPT2GGUF.read(file)
        #expect(read.config.hasBias && read.config.layerCount == 2)
        #expect(logits(read.store.weights) == logits(store.weights))
    }

    @Test func testGGUFGPT2_blocksOfDifferentShapesAreRefused() throws {
        let (pruned, tokenizer) = try small(shapes: [LayerShape(heads: 4, hiddenWidth: 128), LayerShape(heads: 2, hiddenWidth: 64)])
        let store = WeightStore(layout: pruned.layout, parameters: pruned.parameters.pointer) { _ in .f32 }
        let error = try #require(throws: WhittleError.self) {
            try GPT2GGUF.serialize(store: store, config: pruned.config, tokenizer: tokenizer, name: "p")
        }
        #expect(error.kind == .invalidConfig && error.message.contains("block 1: 2 heads") && error.hint.contains("safetensors"))
        // One MLP width other than 4C in every block is plain gpt2 (feed_forward_length) and round-trips.
        let (narrow, _) = try small(shapes: [LayerShape(heads: 4, hiddenWidth: 64), LayerShape(heads: 4, hiddenWidth: 64)])
        let narrowStore = WeightStore(layout: narrow.layout, parameters: narrow.parameters.pointer) { _ in .q8_0 }
        let file = try GGUFFile(bytes: try GPT2GGUF.serialize(store: narrowStore, config: narrow.config, tokenizer: tokenizer, name: "n"))
        #expect(file["gpt2.feed_forward_length"] == .uint32(64))
        #expect(try GPT2GGUF.read(file).config == narrow.config)
    }

    /// `file` written again with its metadata and tensors changed.
    func rewritten(_ file: GGUFFile, metadata: ([(key: String, value: GGUFValue)]) -> [(key: String, value: GGUFValue)] = { $0 },
                   tensors: ([GGUFWriter.Tensor]) -> [GGUFWriter.Tensor] = { $0 }) throws -> GGUFFile {
        let original = file.tensors.map { GGUFWriter.Tensor(name: $0.name, dimensions: $0.dimensions, type: $0.type, bytes: Array(file.data($0))) }
        return try GGUFFile(bytes: try GGUFWriter.serialize(metadata: metadata(file.metadata), tensors: tensors(original)))
    }

    @Test func testGGUFGPT2_filesThatAreNotOurGPT2AreRefusedWithTheReason() throws {
        let (model, tokenizer) = try small()
        let store = WeightStore(layout: model.layout, parameters: model.parameters.pointer) { _ in .f32 }
        let file = try GGUFFile(bytes: try GPT2GGUF.serialize(store: store, config: model.config, tokenizer: tokenizer, name: "s"))
        func refusal(_ changed: GGUFFile) -> String {
            do { _ = try GPT2GGUF.read(changed); return "accepted" } catch let error as WhittleError {
                return error.kind == .invalidFile && !error.hint.isEmpty ? error.message : "wrong kind"
            } catch { return "not a WhittleError" }
        }
        func set(_ key: String, _ value: GGUFValue) throws -> GGUFFile {
            try rewritten(file, metadata: { $0.map { $0.key == key ? (key: key, value: value) : $0 } })
        }
        #expect(refusal(try set("general.architecture", .string("llama"))).contains("\"llama\", not gpt2"))
        #expect(refusal(try set("gpt2.block_count", .string("2"))).contains("gpt2.block_count is string, not an integer"))
        #expect(refusal(try set("gpt2.block_count", .uint32(3))).contains("needs 40 tensors, but the file has 28"))
        #expect(refusal(try set("gpt2.block_count", .uint32(1 << 20))).contains("needs 12582916 tensors"))
        #expect(refusal(try set("gpt2.context_length", .uint32(17))).contains("position_embd.weight has dimensions [32, 16]"))
        #expect(refusal(try set("gpt2.embedding_length", .uint32(30))).contains("impossible model"))
        #expect(refusal(try set("tokenizer.ggml.model", .string("llama"))).contains("tokenizer"))
        #expect(refusal(try set("tokenizer.ggml.tokens", .array(.string(["ab"] + Array(repeating: "x", count: 64))))).contains("not one character"))
        #expect(refusal(try rewritten(file, metadata: { $0.filter { $0.key != "gpt2.context_length" } })).contains("no gpt2.context_length"))
        let head = GGUFWriter.Tensor(name: "output.weight", dimensions: [32, 65], type: GGMLType(.f32)!, bytes: [UInt8](repeating: 0, count: 32 * 65 * 4))
        #expect(refusal(try rewritten(file, tensors: { $0 + [head] })).contains("not tied"))
        #expect(refusal(try rewritten(file, tensors: { $0.filter { $0.name != "blk.1.ffn_down.bias" } })).contains("no tensor blk.1.ffn_down.bias"))
        #expect(refusal(try rewritten(file, tensors: { $0.map { $0.name == "blk.0.ffn_up.weight" ? .init(name: $0.name, dimensions: [128, 32], type: $0.type, bytes: $0.bytes) : $0 } }))
                    .contains("dimensions [128, 32]"))
        let nan = [UInt8](repeating: 0xFF, count: 32 * 4)
        #expect(refusal(try rewritten(file, tensors: { $0.map { $0.name == "output_norm.weight" ? .init(name: $0.name, dimensions: [32], type: $0.type, bytes: nan) : $0 } }))
                    .contains("non-finite"))
    }

    @Test func testGGUFGPT2_typesWhittleCannotRunAreNamed() throws {
        // Width 256 so a Q4_K row (256 values) fits; the matrix is stored in a type with no WeightFormat.
        let config = ModelConfig(layerCount: 1, headCount: 4, embeddingWidth: 256, contextLength: 4, vocabularySize: 65)
        let model = try GPTModel(config: config)
        let tokenizer = try sample().tokenizer
        let store = WeightStore(layout: model.layout, parameters: model.parameters.pointer) { _ in .f32 }
        let file = try GGUFFile(bytes: try GPT2GGUF.serialize(store: store, config: config, tokenizer: tokenizer, name: "k"))
        let q4k = GGUFWriter.Tensor(name: "blk.0.attn_qkv.weight", dimensions: [256, 768], type: GGMLType.withID(12)!,
                                    bytes: [UInt8](repeating: 0, count: 768 * 144))
        let changed = try rewritten(file, tensors: { $0.map { $0.name == q4k.name ? q4k : $0 } })
        let error = try #require(throws: WhittleError.self) { try GPT2GGUF.read(changed) }
        #expect(error.message.contains("blk.0.attn_qkv.weight is stored as Q4_K") && error.hint.contains("llama-quantize"))
    }
}
