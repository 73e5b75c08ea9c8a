// Variants: a quantized variant directory reloads to bit-identical logits (GGUF weights through
// LoadedModel), its bytes equal WeightStore's own quantization, variant.json round-trips and is
// read strictly (hostile or corrupt files get typed errors), metrics can be recorded atomically,
// and a failed or cancelled quantization leaves nothing behind.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct VariantTests {
    static let tokens: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]

    /// A small random model (width 64: every row is whole 32-weight blocks) saved as a model directory.
    static func baseModel(in scratch: TemporaryDirectory, seed: UInt64 = 7) throws -> String {
        let config = ModelConfig(layerCount: 2, headCount: 2, embeddingWidth: 64, contextLength: 16, vocabularySize: 12)
        var generator = RandomGenerator(seed: seed)
        let model = try GPTModel.initialized(config: config, generator: &generator)
        let tokenizer = CharTokenizer(text: "abcdefghij.\n")
        let path = scratch.path("base")
        try ModelDirectory.save(model: model, tokenizer: tokenizer, to: path)
        return path
    }

    static func logits(_ weights: ModelWeights) -> [Float] {
        let arena = ActivationArena(dimensions: weights.dimensions, B: 1, T: tokens.count)
        for (i, token) in tokens.enumerated() { arena.tokens[i] = token }
        GPT.forward(weights: weights, arena: arena, withTargets: false)
        return arena.logits.array
    }

    static func request(_ base: String, _ output: String, plan: QuantizationPlan) -> Quantizer.Request {
        Quantizer.Request(basePath: base, plan: plan, output: output, whittleVersion: "test", command: "whittle quantize (test)")
    }

    @Test(arguments: [WeightFormat.q8_0, .q4_0, .q5_1, .f16])
    func testVariant_reloadGivesBitIdenticalLogits(_ format: WeightFormat) throws {
        let scratch = TemporaryDirectory()
        let base = try Self.baseModel(in: scratch)
        let plan = QuantizationPlan(defaultFormat: format, rules: [.init(pattern: "ffn_down", format: .q8_0)])
        let outcome = try Quantizer.run(Self.request(base, scratch.path("variant"), plan: plan))
        // In memory, straight from the quantizer, and from WeightStore's own quantization: same bytes, same logits.
        let float = try LoadedModel.load(base)
        let formats = try plan.resolve(layout: float.floatModel!.layout)
        let direct = try Rounding.quantize(model: float.floatModel!, plan: { formats[float.floatModel!.layout.tensors.firstIndex(of: $0)!] },
                                           method: .rtn, calibration: nil).store
        let reference = WeightStore(layout: float.floatModel!.layout, parameters: float.floatModel!.parameters.pointer) { tensor in
            formats[float.floatModel!.layout.tensors.firstIndex(of: tensor)!]
        }
        #expect(direct.tensors == reference.tensors)
        #expect(Array(UnsafeRawBufferPointer(start: direct.data(direct.tensors[0]), count: direct.byteCount))
                == Array(UnsafeRawBufferPointer(start: reference.data(reference.tensors[0]), count: reference.byteCount)))
        let reloaded = try LoadedModel.load(outcome.directory)
        #expect(reloaded.floatModel == nil && reloaded.weightsFileBytes == outcome.variant.weightsFileBytes)
        let expected = withExtendedLifetime(direct) { Self.logits(direct.weights) }
        #expect(withExtendedLifetime(reloaded) { Self.logits(reloaded.weights) } == expected)
        // The plan as stored: the embedding q8_0, ffn_down q8_0, the rest the chosen type.
        let variant = try Variant.load(outcome.directory)
        #expect(variant == outcome.variant)
        #expect(variant.plan.first { $0.tensor == "wte.weight" }?.format == .q8_0)
        #expect(variant.plan.first { $0.tensor == "h.1.mlp.c_proj.weight" }?.format == .q8_0)
        #expect(variant.plan.first { $0.tensor == "h.1.mlp.c_fc.weight" }?.format == format)
        #expect(variant.plan.count == 1 + 2 * 4)
        let baseBytes = try FileIO.readFile(base + "/model.safetensors")
        #expect(variant.base.sha256 == SHA256.hex(baseBytes) && variant.base.weightsFile == "model.safetensors")
        #expect(variant.passes == [Variant.Pass(method: .rtn, plan: plan)])
        #expect(variant.passes[0].calibrationText == nil && variant.passes[0].calibrationSamples == nil)
        let card = try String(contentsOfFile: outcome.directory + "/README.md", encoding: .utf8)
        #expect(card.contains("whittle quantize (test)") && card.contains("\(variant.weightsFileBytes.formatted()) bytes"))
    }

    /// `quantize`'s default plans (embedding q8_0) of the sample model write the reference writer's
    /// files byte for byte (general.name is the output directory's name).
    @Test(arguments: [(WeightFormat.q8_0, "tiny-q8_0.gguf"), (.q4_0, "tiny-q4_0-embd-q8_0.gguf")])
    func testQuantize_defaultPlanOfSampleModelIsTheReferenceFile(_ format: WeightFormat, _ reference: String) throws {
        let scratch = TemporaryDirectory()
        let output = scratch.path("shakespeare-char-tiny")
        let request = Self.request(Repository.path("sample-models/shakespeare-char-tiny"), output, plan: QuantizationPlan(defaultFormat: format))
        _ = try Quantizer.run(request)
        #expect(try FileIO.readFile(output + "/model.gguf") == (try GGUFFixture.bytes(reference)))
    }

    @Test func testVariant_jsonRoundTripsAndMetricsAreRecordedAtomically() throws {
        let scratch = TemporaryDirectory()
        let base = try Self.baseModel(in: scratch)
        let outcome = try Quantizer.run(Self.request(base, scratch.path("v"), plan: QuantizationPlan(defaultFormat: .q4_0)))
        let text = outcome.variant.json()
        #expect(try Variant.parse(Array(text.utf8), source: "x") == outcome.variant)
        #expect(outcome.variant.metrics == .null)
        let metrics = JSONValue.object([.init("loss", .double(1.5)), .init("kld_mean", .double(0.002))])
        let updated = try Variant.recordMetrics(metrics, in: outcome.directory)
        #expect(updated.metrics == metrics)
        #expect(try Variant.load(outcome.directory).metrics == metrics)
        try AtomicDirectory.verify(outcome.directory)
        let card = try String(contentsOfFile: outcome.directory + "/README.md", encoding: .utf8)
        #expect(card.contains("| kld_mean | 0.002 |"))
        #expect(throws: WhittleError.self) { try Variant.recordMetrics(.array([]), in: outcome.directory) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == ["base", "v"])
    }

    @Test func testQuantize_refusesExistingOutputQuantizedBaseAndCancelsWithoutWriting() throws {
        let scratch = TemporaryDirectory()
        let base = try Self.baseModel(in: scratch)
        let existing = #expect(throws: WhittleError.self) {
            try Quantizer.run(Self.request(base, base, plan: QuantizationPlan(defaultFormat: .q8_0)))
        }
        #expect(existing?.kind == .invalidConfig && existing?.message.contains("already exists") == true)
        let cancelled = #expect(throws: WhittleError.self) {
            try Quantizer.run(Self.request(base, scratch.path("c"), plan: QuantizationPlan(defaultFormat: .q8_0)), isCancelled: { true })
        }
        #expect(cancelled?.kind == .cancelled)
        let variant = try Quantizer.run(Self.request(base, scratch.path("v"), plan: QuantizationPlan(defaultFormat: .q8_0)))
        let again = #expect(throws: WhittleError.self) {
            try Quantizer.run(Self.request(variant.directory, scratch.path("vv"), plan: QuantizationPlan(defaultFormat: .q4_0)))
        }
        #expect(again?.kind == .invalidConfig && again?.message.contains("already-quantized") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == ["base", "v"])
    }

    @Test func testVariantLoad_corruptWeightsOrJSONGetTypedErrors() throws {
        let scratch = TemporaryDirectory()
        let base = try Self.baseModel(in: scratch)
        let outcome = try Quantizer.run(Self.request(base, scratch.path("v"), plan: QuantizationPlan(defaultFormat: .q4_0)))
        // A flipped byte in model.gguf fails the manifest, for Variant.load and LoadedModel.load alike.
        var gguf = try FileIO.readFile(outcome.directory + "/model.gguf")
        gguf[gguf.count - 40] ^= 0x55
        try FileIO.writeFile(gguf, to: outcome.directory + "/model.gguf", sync: false)
        for load in [{ _ = try Variant.load(outcome.directory) }, { _ = try LoadedModel.load(outcome.directory) }] {
            let error = #expect(throws: WhittleError.self) { try load() }
            #expect(error?.kind == .invalidFile && error?.message.contains("model.gguf") == true)
        }
        let missing = #expect(throws: WhittleError.self) { try Variant.load(base) }
        #expect(missing?.kind == .invalidFile && missing?.message.contains("variant.json") == true)
    }

    /// A variant.json that disagrees with its weights (republished with a valid manifest) fails `open`.
    @Test func testVariantOpen_lineageMustDescribeTheWeights() throws {
        let scratch = TemporaryDirectory()
        let base = try Self.baseModel(in: scratch)
        let outcome = try Quantizer.run(Self.request(base, scratch.path("v"), plan: QuantizationPlan(defaultFormat: .q4_0)))
        let opened = try Variant.open(outcome.directory)
        #expect(opened.variant == outcome.variant && opened.model.floatModel == nil)
        func republish(_ edit: (String) -> String) throws {
            let names = try AtomicDirectory.readManifest(outcome.directory).map(\.name)
            let files = try names.map { name -> (name: String, bytes: [UInt8]) in
                let bytes = try FileIO.readFile(outcome.directory + "/" + name)
                return name == Variant.fileName ? (name, Array(edit(String(decoding: bytes, as: UTF8.self)).utf8)) : (name, bytes)
            }
            try AtomicDirectory.publish(files: files, to: outcome.directory)
        }
        let good = outcome.variant.json()
        let edits: [(String, String, String)] = [
            ("\"h.0.mlp.c_fc.weight\": \"q4_0\"", "\"h.0.mlp.c_fc.weight\": \"q8_0\"", "stored as q4_0"),
            ("\"h.0.mlp.c_fc.weight\": \"q4_0\"", "\"h.0.mlp.c_fx.weight\": \"q4_0\"", "'h.0.mlp.c_fx.weight'"),
            ("\"bytes\": \(outcome.variant.weightsFileBytes)", "\"bytes\": 1", "1 bytes"),
        ]
        for (find, replace, fragment) in edits {
            #expect(good.contains(find))
            try republish { _ in good.replacingOccurrences(of: find, with: replace) }
            let error = #expect(throws: WhittleError.self, "\(replace)") { try Variant.open(outcome.directory) }
            #expect(error?.kind == .invalidFile && error?.message.contains(fragment) == true, "\(error?.message ?? "")")
        }
    }

    /// variant.json with one change; each must be refused with `.invalidFile` naming the problem.
    @Test func testVariantParse_hostileDocumentsAreRefused() throws {
        let scratch = TemporaryDirectory()
        let base = try Self.baseModel(in: scratch)
        let good = try Quantizer.run(Self.request(base, scratch.path("v"), plan: QuantizationPlan(defaultFormat: .q4_0))).variant.json()
        let sha = good.components(separatedBy: "\"sha256\": \"")[1].prefix(64)
        let cases: [(String, String, String)] = [
            ("\"version\": 1", "\"version\": 2", "version 2"),
            ("\"version\": 1", "\"version\": 1, \"extra\": 0", "unknown key 'extra'"),
            ("\"format\": \"whittle-variant\"", "\"format\": \"other\"", "'format'"),
            ("\"method\": \"rtn\"", "\"method\": \"magic\"", "unknown method 'magic'"),
            ("\"pass\": \"quantize\"", "\"pass\": \"merge\"", "unknown pass 'merge'"),
            ("\"pass\": \"quantize\"", "\"pass\": \"prune\"", "unknown pruning method 'rtn'"),
            ("\"wte.weight\": \"q8_0\"", "\"wte.weight\": \"q3_k\"", "plan entry 'wte.weight'"),
            ("\"metrics\": null", "\"metrics\": 3", "'metrics'"),
            ("\"metrics\": null", "\"metrics\": null, \"metrics\": null", "duplicate"),
            ("\"calibration_samples\": null", "\"calibration_samples\": -1", "calibration_samples"),
            ("\"calibration_seed\": null", "\"calibration_seed\": 1.5", "calibration_seed"),
            (String(sha), String(sha.dropLast()) + "G", "SHA-256"),
            ("\"bytes\": ", "\"bytes\": -", "'weights.bytes'"),
            ("\"bits_per_weight\": ", "\"bits_per_weight\": \"x\", \"y\": ", "'weights.bits_per_weight'"),
            ("\"command\": ", "\"command\": 5, \"c\": ", "'whittle.command'"),
        ]
        for (find, replace, fragment) in cases {
            #expect(good.contains(find), "fixture lacks \(find)")
            let hostile = good.replacingOccurrences(of: find, with: replace)
            let error = #expect(throws: WhittleError.self, "\(replace)") { try Variant.parse(Array(hostile.utf8), source: "variant.json") }
            #expect(error?.kind == .invalidFile, "\(replace)")
            #expect(error?.message.contains(fragment) == true, "\(replace): \(error?.message ?? "")")
        }
        for text in ["", "[]", "{", "{\"format\": \"whittle-variant\"}", String(repeating: "[", count: 100)] {
            let error = #expect(throws: WhittleError.self) { try Variant.parse(Array(text.utf8), source: "variant.json") }
            #expect(error?.kind == .invalidFile)
        }
        // Every truncated prefix is refused without a trap.
        let bytes = Array(good.utf8)
        for length in stride(from: 0, to: bytes.count - 2, by: 7) {
            #expect(throws: WhittleError.self) { try Variant.parse(Array(bytes[..<length]), source: "variant.json") }
        }
    }
}
