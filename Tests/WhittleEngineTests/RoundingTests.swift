// Calibration and the `Rounding` API on small seeded models: calibration refuses the validation
// split, too-short text, no samples and a memory limit it would pass, and its Hessian is Σ xᵀx of the
// arena's layer inputs; AWQ's folded model computes the same logits before rounding and rounds with
// less output error than RTN where some input channels are outliers; GPTQ and importance-weighted
// rounding lower the layers' output error and give a store that runs; plans that do not fit a tensor
// are refused naming it. Also GPTQ on the tiny sample model, timed.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct RoundingTests {
    /// Two blocks, width 64 (so every matrix row is whole blocks), random weights; with `outliers`,
    /// a few LayerNorm gain channels are 8× larger, as trained models' activations have them.
    static func model(outliers: Bool = false, seed: UInt64 = 1) throws -> GPTModel {
        let config = ModelConfig(layerCount: 2, headCount: 2, embeddingWidth: 64, contextLength: 16, vocabularySize: 65)
        var generator = RandomGenerator(seed: seed)
        let model = try GPTModel.initialized(config: config, generator: &generator)
        // Random LayerNorm biases and gains around 1 make the function less trivial.
        for tensor in model.layout.tensors {
            guard case .normGain = tensor.role else { continue }
            for k in 0..<tensor.count {
                model.parameters.pointer[tensor.offset + k] = 1 + 0.2 * generator.nextNormal() + (outliers && k % 13 == 5 ? 7 : 0)
            }
        }
        return model
    }

    static func tokens(_ count: Int = 3000, seed: UInt64 = 2) -> [Int32] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in Int32(generator.nextInt(below: 65)) }
    }

    static func calibration(_ model: GPTModel, samples: Int = 24) throws -> CalibrationStatistics {
        try CalibrationStatistics.collect(model: model, splits: TokenSplits.split(tokens()), samples: samples, seed: 3)
    }

    static func logits(_ weights: ModelWeights) -> [Float] {
        let arena = ActivationArena(dimensions: weights.dimensions, B: 2, T: 16)
        for (i, token) in tokens(32, seed: 9).enumerated() { arena.tokens[i] = token }
        GPT.forward(weights: weights, arena: arena, withTargets: false)
        return arena.logits.array
    }

    /// The error `body` throws, if any.
    static func thrown(_ body: () throws -> Void) -> Error? {
        do { try body() } catch { return error }
        return nil
    }

    static func linearPlan(_ format: WeightFormat) -> (ParameterTensor) -> WeightFormat {
        { $0.role == .tokenEmbedding ? .q8_0 : format }
    }

    static func errors(_ result: QuantizationResult) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: result.reports.compactMap { r in r.relativeError.map { (r.tensor, $0) } })
    }

    @Test func testCalibration_refusesValidationShortTextNoSamplesAndMemory() throws {
        let model = try Self.model()
        let splits = TokenSplits.split(Self.tokens())
        #expect(Self.thrown { _ = try CalibrationStatistics.collect(model: model, splits: splits, split: .validation, samples: 4, seed: 1) }.map { e in (e as? WhittleError)?.kind == .invalidConfig && "\(e)".contains("validation") } == true)
        #expect(Self.thrown { _ = try CalibrationStatistics.collect(model: model, tokens: Array(Self.tokens()[..<10]), name: "short", samples: 4, seed: 1) }.map { e in (e as? WhittleError)?.kind == .invalidData && "\(e)".contains("10 tokens") } == true)
        #expect(Self.thrown { _ = try CalibrationStatistics.collect(model: model, splits: splits, samples: 0, seed: 1) }.map { e in (e as? WhittleError)?.kind == .invalidConfig } == true)
        #expect(Self.thrown { _ = try CalibrationStatistics.collect(model: model, splits: splits, samples: 4, seed: 1, memoryLimit: 100_000) }.map { e in (e as? WhittleError)?.kind == .invalidConfig && "\(e)".contains("bytes") } == true)
        #expect(Self.thrown { _ = try Rounding.quantize(model: model, plan: Self.linearPlan(.q4_0), method: .gptq, calibration: nil) }.map { e in (e as? WhittleError)?.kind == .invalidConfig && "\(e)".contains("calibration") } == true)
    }

    @Test func testCalibration_hessianIsTheSumOfOuterProductsOfTheArenaInputs() throws {
        let model = try Self.model()
        let text = Self.tokens(16)       // exactly one window: every sample is it
        let stats = try CalibrationStatistics.collect(model: model, tokens: text, name: "one", samples: 3, seed: 1)
        let arena = ActivationArena(dimensions: model.config.dimensions, B: 1, T: 16)
        for (i, token) in text.enumerated() { arena.tokens[i] = token }
        GPT.forward(weights: model.weights, arena: arena, withTargets: false)
        for (name, buffer, K) in [("h.1.mlp.c_proj.weight", arena.fcGelu[1], 256), ("h.0.attn.c_attn.weight", arena.ln1[0], 64),
                                  ("wte.weight", arena.lnf, 64)] {
            let layer = try #require(stats[name])
            #expect(layer.inputs == K && layer.tokens == 48)
            for i in stride(from: 0, to: K, by: 7) {
                for j in stride(from: 0, to: K, by: 5) {
                    var direct: Double = 0, ii: Double = 0, jj: Double = 0
                    for t in 0..<16 {
                        let a = Double(buffer[t * K + i]), b = Double(buffer[t * K + j])
                        direct += a * b; ii += a * a; jj += b * b
                    }
                    // fp32 products: within 1e-5 of the Cauchy–Schwarz bound 3·√(Σa²·Σb²) (three equal windows).
                    #expect(abs(layer.hessian[i * K + j] - 3 * direct) <= 3e-5 * (ii * jj).squareRoot() + 1e-12, "\(name) (\(i), \(j))")
                }
            }
            #expect(abs(layer.meanSquare[3] - layer.hessian[3 * K + 3] / 48) < 1e-12)
        }
    }

    @Test func testAWQ_foldedModelComputesTheSameFunctionAndBeatsRoundToNearest() throws {
        let model = try Self.model(outliers: true)
        let stats = try Self.calibration(model)
        let awq = try Rounding.quantize(model: model, plan: Self.linearPlan(.q4_0), method: .awq, calibration: stats)
        let rtn = try Rounding.quantize(model: model, plan: Self.linearPlan(.q4_0), method: .rtn, calibration: stats)
        // Before rounding: the folded model's logits equal the original's within fp32 rounding.
        let before = Self.logits(model.weights), folded = Self.logits(awq.model.weights)
        for (a, b) in zip(before, folded) { #expect(abs(a - b) <= 1e-4 * max(abs(a), 1)) }
        #expect(awq.model !== model && model.parameters.array != awq.model.parameters.array, "AWQ scaled nothing")
        // Scaled (an α): c_attn, c_fc and the attention c_proj; never the MLP c_proj or the tied head.
        // Clipped (method awq): every linear matrix; never the tied head.
        let scaled = Set(awq.reports.filter { $0.awqAlpha != nil }.map(\.tensor))
        #expect(scaled == ["h.0.attn.c_attn.weight", "h.0.attn.c_proj.weight", "h.0.mlp.c_fc.weight",
                           "h.1.attn.c_attn.weight", "h.1.attn.c_proj.weight", "h.1.mlp.c_fc.weight"])
        #expect(Set(awq.reports.filter { $0.method == .awq }.map(\.tensor)) == Set(awq.reports.map(\.tensor)).subtracting(["wte.weight"]))
        #expect(awq.reports.contains { ($0.awqAlpha ?? 0) > 0 })
        let awqErrors = Self.errors(awq), rtnErrors = Self.errors(rtn)
        for name in ["h.0.mlp.c_fc.weight", "h.1.mlp.c_fc.weight", "h.0.attn.c_proj.weight", "h.1.attn.c_proj.weight",
                     "h.0.mlp.c_proj.weight", "h.1.mlp.c_proj.weight"] {
            #expect(awqErrors[name]! <= rtnErrors[name]! * (1 + 1e-9), "\(name): AWQ \(awqErrors[name]!) vs RTN \(rtnErrors[name]!)")
        }
        let inputsWithOutliers = ["h.0.attn.c_attn.weight", "h.0.mlp.c_fc.weight", "h.1.attn.c_attn.weight", "h.1.mlp.c_fc.weight"]
        let awqTotal = inputsWithOutliers.reduce(0) { $0 + awqErrors[$1]! }, rtnTotal = inputsWithOutliers.reduce(0) { $0 + rtnErrors[$1]! }
        #expect(awqTotal < 0.9 * rtnTotal, "AWQ \(awqTotal) vs RTN \(rtnTotal)")
        // The store rounds the folded model and runs.
        let finite = Self.logits(awq.store.weights).allSatisfy { $0.isFinite }
            #expect(finite)
    }

    @Test(arguments: [RoundingMethod.gptq, .imatrix])
    func testCalibratedMethods_lowerTheOutputErrorOfEveryMatrixType(method: RoundingMethod) throws {
        let model = try Self.model(outliers: true)
        let stats = try Self.calibration(model)
        for format in [WeightFormat.q4_0, .q5_1] {
            let ours = try Rounding.quantize(model: model, plan: Self.linearPlan(format), method: method, calibration: stats)
            let rtn = try Rounding.quantize(model: model, plan: Self.linearPlan(format), method: .rtn, calibration: stats)
            let oursErrors = Self.errors(ours), rtnErrors = Self.errors(rtn)
            let linear = ours.reports.filter { $0.tensor != "wte.weight" }
            #expect(linear.count == 8 && linear.allSatisfy { $0.method == method && $0.format == format })
            #expect(ours.reports.first { $0.tensor == "wte.weight" }?.method == .rtn)
            let mean = { (e: [String: Double]) in linear.reduce(0) { $0 + e[$1.tensor]! } / Double(linear.count) }
            #expect(mean(oursErrors) < 0.9 * mean(rtnErrors), "\(method) \(format): \(mean(oursErrors)) vs RTN \(mean(rtnErrors))")
            let stored = try #require(ours.store.tensor(named: "h.1.mlp.c_proj.weight"))
            let bytes = Array(UnsafeRawBufferPointer(start: ours.store.data(stored), count: stored.byteCount))
            RoundingAlgorithmTests.expectOnGrid(bytes, rows: 64, K: 256, format)
            let finite = Self.logits(ours.store.weights).allSatisfy { $0.isFinite }
            #expect(finite)
        }
    }

    @Test func testRounding_rtnEqualsTheReferenceStoreAndMisfitsAreNamed() throws {
        let model = try Self.model()
        let result = try Rounding.quantize(model: model, plan: Self.linearPlan(.q5_0), method: .rtn, calibration: nil)
        let reference = WeightStore(layout: model.layout, parameters: model.parameters.pointer, format: Self.linearPlan(.q5_0))
        #expect(result.store.tensors == reference.tensors && result.store.byteCount == reference.byteCount)
        #expect(memcmp(result.store.data(result.store.tensors[0]), reference.data(reference.tensors[0]), reference.byteCount) == 0)
        #expect(result.reports.allSatisfy { $0.relativeError == nil && $0.method == .rtn })
        let narrow = try GPTModel(config: ModelConfig(layerCount: 1, headCount: 2, embeddingWidth: 48, contextLength: 8, vocabularySize: 65))
        #expect(Self.thrown { _ = try Rounding.quantize(model: narrow, plan: { _ in .q4_0 }, method: .rtn, calibration: nil) }.map { e in "\(e)".contains("wte.weight") && "\(e)".contains("int8") } == true)
    }

    /// GPTQ q4_0 on the shipped tiny model with 128 calibration windows of the train split: lower
    /// output error than RTN on every matrix, timed (the figure in docs/DECISIONS.md is a release build).
    @Test func testGPTQ_onTheTinySampleModel() throws {
        let (model, tokenizer, _) = try ModelDirectory.load(Repository.path("sample-models/shakespeare-char-tiny"))
        let text = try Corpus.load(path: Repository.path("datasets/tinyshakespeare.txt"))
        let splits = TokenSplits.split(try tokenizer.encode(text))
        let clock = ContinuousClock()
        var stats: CalibrationStatistics? = nil
        let calibrationTime = try clock.measure { stats = try CalibrationStatistics.collect(model: model, splits: splits, samples: 128, seed: 1) }
        var gptq: QuantizationResult? = nil
        let gptqTime = try clock.measure {
            gptq = try Rounding.quantize(model: model, plan: Self.linearPlan(.q4_0), method: .gptq, calibration: stats)
        }
        let rtn = try Rounding.quantize(model: model, plan: Self.linearPlan(.q4_0), method: .rtn, calibration: stats)
        let gptqErrors = Self.errors(gptq!), rtnErrors = Self.errors(rtn)
        for report in gptq!.reports where report.tensor != "wte.weight" {
            #expect(gptqErrors[report.tensor]! < rtnErrors[report.tensor]!, "\(report.tensor)")
        }
        let matrices = gptq!.reports.map(\.tensor).filter { $0 != "wte.weight" }
        func mean(_ errors: [String: Double]) -> Double { matrices.reduce(0) { $0 + errors[$1]! } / Double(matrices.count) }
        let imatrix = Self.errors(try Rounding.quantize(model: model, plan: Self.linearPlan(.q4_0), method: .imatrix, calibration: stats))
        let awq = Self.errors(try Rounding.quantize(model: model, plan: Self.linearPlan(.q4_0), method: .awq, calibration: stats))
        #expect(mean(imatrix) < mean(rtnErrors) && mean(awq) < mean(rtnErrors))
        let bytes = CalibrationStatistics.bytesNeeded(model.config.dimensions, contextLength: 64)
        print("GPTQ q4_0, tiny sample model: calibration (128 × 64 tokens, \(bytes) bytes) \(calibrationTime), quantization \(gptqTime);",
              "mean relative output error of the 16 matrices: RTN \(mean(rtnErrors)), imatrix \(mean(imatrix)), AWQ \(mean(awq)), GPTQ \(mean(gptqErrors))")
    }
}
