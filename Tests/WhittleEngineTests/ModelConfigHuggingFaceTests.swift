import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct ModelConfigHuggingFaceTests {
    static let fixture = ModelConfig(layerCount: 2, headCount: 4, embeddingWidth: 32, contextLength: 16,
                                     vocabularySize: 65, hasBias: true, layerNormEpsilon: 1e-5)

    /// A minimal valid config with `changes` applied and the `removing` keys left out.
    static func config(_ changes: [String: JSONValue] = [:], removing: [String] = []) -> [UInt8] {
        var keys: [String: JSONValue] = [
            "model_type": .string("gpt2"), "n_embd": .int(32), "n_layer": .int(2), "n_head": .int(4),
            "n_positions": .int(16), "vocab_size": .int(65),
        ]
        for (key, value) in changes { keys[key] = value }
        for key in removing { keys[key] = nil }
        return Array(JSONValue.object(keys).serialized().utf8)
    }

    static func expectError(_ bytes: [UInt8], _ kind: WhittleError.Kind, mentioning phrase: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try ModelConfig(huggingFaceJSON: bytes)
            Issue.record("accepted a config that should mention '\(phrase)'", sourceLocation: sourceLocation)
        } catch let error as WhittleError {
            #expect(error.kind == kind, sourceLocation: sourceLocation)
            #expect(error.message.contains(phrase), "message: \(error.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func testModelConfigHuggingFace_readsTransformersFixture() throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: fixturePath("gpt2-tiny-reference/config.json"))))
        #expect(try ModelConfig(huggingFaceJSON: bytes) == Self.fixture)
    }

    @Test func testModelConfigHuggingFace_roundTripsWithWhittleSection() throws {
        let config = ModelConfig(layerCount: 3, headCount: 2, embeddingWidth: 48, contextLength: 64,
                                 vocabularySize: 100, hasBias: false, layerNormEpsilon: 1e-6)
        let bytes = config.huggingFaceJSON(bosTokenID: 0, eosTokenID: 1, extra: ["note": .string("x")])
        #expect(try ModelConfig(huggingFaceJSON: bytes) == config)
        let json = try JSONValue.parse(bytes)
        #expect(json["n_ctx"]?.intValue == 64)
        #expect(json["n_positions"]?.intValue == 64)
        #expect(json["architectures"] == .array([.string("GPT2LMHeadModel")]))
        #expect(json["activation_function"]?.stringValue == "gelu_new")
        #expect(json["n_inner"] == .null)
        #expect(json["tie_word_embeddings"] == .bool(true))
        #expect(json["whittle"]?["bias"] == .bool(false))
        #expect(json["whittle"]?["note"] == .string("x"))
        #expect(json["bos_token_id"]?.intValue == 0)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"layer_norm_epsilon\": 1e-06"))
        #expect(text.hasPrefix("{\n  \"activation_function\""))
    }

    /// GPT-2's `<|endoftext|>`: what transformers' GPT2Config uses for bos/eos when config.json has no value.
    static let gpt2EndOfText = 50256

    /// Issue item 7: a 65-token model must not carry token ids past its vocabulary, and must not leave
    /// them out either (transformers would fill in 50256): ids it has are written, others are null.
    @Test func testModelConfigHuggingFace_writesOnlyTokenIDsTheVocabularyHas() throws {
        let plain = try JSONValue.parse(Self.fixture.huggingFaceJSON())
        #expect(plain["bos_token_id"] == .some(.null), "present and null, so GPT2Config's 50256 default is not used")
        #expect(plain["eos_token_id"] == .some(.null))
        let outside = try JSONValue.parse(Self.fixture.huggingFaceJSON(bosTokenID: Self.gpt2EndOfText, eosTokenID: 65))
        #expect(outside["bos_token_id"] == .some(.null))
        #expect(outside["eos_token_id"] == .some(.null), "65 is one past the last id of a 65-token vocabulary")
        let inside = try JSONValue.parse(Self.fixture.huggingFaceJSON(bosTokenID: 0, eosTokenID: 64))
        #expect(inside["bos_token_id"]?.intValue == 0)
        #expect(inside["eos_token_id"]?.intValue == 64)
        let negative = try JSONValue.parse(Self.fixture.huggingFaceJSON(bosTokenID: -1))
        #expect(negative["bos_token_id"] == .some(.null))
    }

    /// Files written before (no token ids), by transformers (ids, even GPT-2's 50256) and now (null) all read.
    @Test(arguments: [nil, JSONValue.null, .int(0), .int(50256)])
    func testModelConfigHuggingFace_readsAnyTokenIDs(id: JSONValue?) throws {
        let changes: [String: JSONValue] = id.map { ["bos_token_id": $0, "eos_token_id": $0] } ?? [:]
        #expect(try ModelConfig(huggingFaceJSON: Self.config(changes)) == Self.fixture)
    }

    /// The shipped sample model's config.json is exactly what the writer writes now (token ids null),
    /// and its SHA-256 manifest, which covers config.json, still verifies.
    @Test func testSampleModel_configIsTheWritersAndTheManifestVerifies() throws {
        let directory = Repository.path("sample-models/shakespeare-char-tiny")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/config.json")))
        let config = try ModelConfig(huggingFaceJSON: bytes)
        #expect(config.vocabularySize == 65)
        #expect(String(decoding: config.huggingFaceJSON(dropout: 0), as: UTF8.self) == String(decoding: bytes, as: UTF8.self))
        let json = try JSONValue.parse(bytes)
        #expect(json["bos_token_id"] == .some(.null) && json["eos_token_id"] == .some(.null))
        try AtomicDirectory.verify(directory)
    }

    @Test func testModelConfigHuggingFace_rejectsNonJSON() {
        Self.expectError(Array("n_embd = 32".utf8), .invalidFile, mentioning: "not valid JSON")
        Self.expectError(Array("[1]".utf8), .invalidFile, mentioning: "not a JSON object")
    }

    @Test func testModelConfigHuggingFace_rejectsMissingKeys() throws {
        for key in ["n_embd", "n_layer", "n_head", "vocab_size", "model_type"] {
            Self.expectError(Self.config(removing: [key]), .invalidFile, mentioning: "no \"\(key)\"")
        }
        Self.expectError(Self.config(removing: ["n_positions"]), .invalidFile, mentioning: "no \"n_ctx\"")
        #expect(try ModelConfig(huggingFaceJSON: Self.config(["n_ctx": .int(16)], removing: ["n_positions"])) == Self.fixture)
    }

    @Test func testModelConfigHuggingFace_rejectsWrongTypes() {
        Self.expectError(Self.config(["n_embd": .string("32")]), .invalidFile, mentioning: "n_embd is \"32\" (a string), expected an integer")
        Self.expectError(Self.config(["n_layer": .number("2.5")]), .invalidFile, mentioning: "expected an integer")
        Self.expectError(Self.config(["layer_norm_epsilon": .string("1e-5")]), .invalidFile, mentioning: "expected a number")
        Self.expectError(Self.config(["whittle": .object(["bias": JSONValue.int(1)])]), .invalidFile, mentioning: "whittle.bias")
    }

    @Test func testModelConfigHuggingFace_rejectsOtherModelsAndActivations() throws {
        Self.expectError(Self.config(["model_type": .string("llama")]), .invalidFile, mentioning: "model_type \"llama\"")
        Self.expectError(Self.config(["activation_function": .string("relu")]), .invalidFile, mentioning: "activation_function \"relu\"")
        #expect(throws: Never.self) { try ModelConfig(huggingFaceJSON: Self.config(["activation_function": .string("gelu_pytorch_tanh")])) }
        Self.expectError(Self.config(["tie_word_embeddings": .bool(false)]), .invalidFile, mentioning: "tie_word_embeddings")
        // n_inner is the MLP width of every block: 4 × n_embd is GPT-2's own shape, any other width is kept per block.
        #expect(try ModelConfig(huggingFaceJSON: Self.config(["n_inner": .int(128)])).isUniform)
        #expect(try ModelConfig(huggingFaceJSON: Self.config(["n_inner": .int(100)])).layers.allSatisfy { $0.hiddenWidth == 100 })
        Self.expectError(Self.config(["n_inner": .int(0)]), .invalidConfig, mentioning: "MLP width must be at least 1")
    }

    @Test func testModelConfigHuggingFace_validatesAfterReading() {
        Self.expectError(Self.config(["n_head": .int(5)]), .invalidConfig, mentioning: "divisible by n_head")
        Self.expectError(Self.config(["n_layer": .int(0)]), .invalidConfig, mentioning: "n_layer must be at least 1")
    }
}
