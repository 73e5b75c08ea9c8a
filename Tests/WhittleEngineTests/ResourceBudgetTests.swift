// The memory and time budget: hostile sizes in settings, in a model directory's config.json, in an
// evaluation batch and in a generation length are refused with the figure before anything is
// allocated; the exact ledger decides close cases; a run that fits but takes very long asks first.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct ResourceBudgetTests {
    static let gibibyte = 1024.0 * 1024 * 1024
    static let sixteenGiB = ResourceBudget(availableBytes: 16 * gibibyte, source: "test")

    @Test(arguments: ["n_embd=16384", "block_size=100000", "batch_size=1048576", "n_layer=100000",
                      "n_layer=1048576", "n_embd=1048576", "vocab_size=1"])
    func testCheckBudget_refusesTrainingShapesOverTheMachine(override: String) throws {
        var config = TinyTraining.shape(layers: 4, heads: 4, width: 128, context: 64, batch: 12)   // the CPU recipe's shape
        guard override != "vocab_size=1" else {
            // A control: the tiny shape itself fits.
            try config.checkBudget(model: config.modelConfig(vocabularySize: 65), confirmedLong: true, budget: Self.sixteenGiB)
            return
        }
        try config.apply(overrides: [override])
        try config.validate()
        let error = #expect(throws: WhittleError.self) {
            try config.checkBudget(model: config.modelConfig(vocabularySize: 65), confirmedLong: true, budget: Self.sixteenGiB)
        }
        #expect(error?.kind == .invalidConfig)
        #expect(error?.message.contains("would need") == true && error?.message.contains("12.8 GiB") == true,
                "\(String(describing: error))")
        #expect(error?.hint.isEmpty == false)
    }

    @Test func testCheckBudget_theExactLedgerDecidesCloseCases() throws {
        let config = TinyTraining.shape()
        let model = config.modelConfig(vocabularySize: 65)
        let exact = Double(config.memoryEstimate(vocabularySize: 65).total)
        let above = ResourceBudget(availableBytes: exact * 1.01 / ResourceBudget.usableFraction, source: "test")
        let below = ResourceBudget(availableBytes: exact * 0.99 / ResourceBudget.usableFraction, source: "test")
        try config.checkBudget(model: model, confirmedLong: true, budget: above)
        #expect(throws: WhittleError.self) { try config.checkBudget(model: model, confirmedLong: true, budget: below) }
    }

    @Test func testCheckBudget_aRunThatFitsButTakesVeryLongAsksFirst() throws {
        var config = TinyTraining.shape(layers: 1000, heads: 4, width: 128, context: 64, batch: 12)
        config.maxIterations = 2000
        let model = config.modelConfig(vocabularySize: 65)
        let error = #expect(throws: WhittleError.self) {
            try config.checkBudget(model: model, confirmedLong: false, budget: Self.sixteenGiB)
        }
        #expect(error?.kind == .needsConfirmation)
        #expect(error?.message.contains("hours") == true && error?.message.contains("GFLOP/s") == true, "\(String(describing: error))")
        #expect(error?.hint.contains("--force") == true)
        try config.checkBudget(model: model, confirmedLong: true, budget: Self.sixteenGiB)
        // Resuming near the end leaves little to do: no question then.
        try config.checkBudget(model: model, fromStep: 1999, confirmedLong: false, budget: Self.sixteenGiB)
    }

    @Test func testTrainingRun_refusesAnOversizedRunBeforeWritingAnything() throws {
        let directory = TemporaryDirectory()
        var config = try TinyTraining.config(in: directory.path)
        config.embeddingWidth = 1 << 20
        config.layerCount = 1 << 20
        let error = #expect(throws: WhittleError.self) { _ = try TrainingRun.start(config: config, directory: directory.path + "/run") }
        #expect(error?.kind == .invalidConfig)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/run"))
    }

    /// config.json is held to the budget before a tensor is read: a 2 KB directory declaring a huge model is refused.
    @Test(arguments: [("n_layer", 1 << 20), ("n_embd", 1 << 20), ("n_positions", 1 << 20), ("none", 0)])
    func testModelDirectory_refusesConfigJSONShapesOverTheBudget(key: String, value: Int) throws {
        let directory = TemporaryDirectory()
        let model = try GPTModel(config: TinyTraining.shape().modelConfig(vocabularySize: 4))
        let tokenizer = CharTokenizer(text: "abcd")
        for file in try ModelDirectory.files(model: model, tokenizer: tokenizer) {
            var bytes = file.bytes
            if file.name == ModelDirectory.configName {
                var text = String(decoding: bytes, as: UTF8.self)
                text = text.replacingOccurrences(of: #""\#(key)": *[0-9]+"#, with: "\"\(key)\": \(value)", options: .regularExpression)
                if key == "n_embd" { text = text.replacingOccurrences(of: #""n_head": *[0-9]+"#, with: "\"n_head\": 1", options: .regularExpression) }
                bytes = Array(text.utf8)
            }
            try FileIO.writeFile(bytes, to: directory.path + "/" + file.name, sync: false)
        }
        let budget = ResourceBudget(availableBytes: 16 * 1024 * 1024, source: "test")
        guard key != "none" else {   // the control: the unchanged directory loads within the same budget
            _ = try ModelDirectory.load(directory.path, budget: budget)
            return
        }
        let error = #expect(throws: WhittleError.self) { _ = try ModelDirectory.load(directory.path, budget: budget) }
        #expect(error?.kind == .invalidFile)
        #expect(error?.message.contains("would need") == true, "\(String(describing: error))")
    }

    @Test func testEvaluateAndGenerate_refuseRequestsOverTheBudget() throws {
        let model = try GPTModel(config: TinyTraining.shape().modelConfig(vocabularySize: 4))
        let tokens = [Int32](repeating: 1, count: 4000)   // 249 windows of 16
        let small = ResourceBudget(availableBytes: 4_000_000, source: "test")
        let batch = #expect(throws: WhittleError.self) {
            _ = try Evaluator.evaluate(model: model, tokens: tokens, batchSize: 100_000_000, budget: small)
        }
        #expect(batch?.message.contains("evaluating 249 windows") == true, "\(String(describing: batch))")
        let four = try Evaluator.evaluate(model: model, tokens: tokens, batchSize: 4, budget: small)
        // A huge batch is clamped to what a pass may usefully hold (`batchByteCap`); the result does not change.
        let roomy = ResourceBudget(availableBytes: 1e12, source: "test")
        let huge = try Evaluator.evaluate(model: model, tokens: tokens, batchSize: 100_000_000, budget: roomy)
        #expect(huge.loss == four.loss || abs(huge.loss - four.loss) < 1e-6 && huge.windows == four.windows)
        let generation = #expect(throws: WhittleError.self) {
            _ = try Generator.generate(model: model, prompt: [1], count: 100_000_000_000, settings: SamplingSettings())
        }
        #expect(generation?.message.contains("would need") == true, "\(String(describing: generation))")
        let long = #expect(throws: WhittleError.self) {
            _ = try Generator.generate(model: model, prompt: [1], count: 1_000_000_000, settings: SamplingSettings())
        }
        #expect(long?.message.contains("would take about") == true, "\(String(describing: long))")
    }

    /// A live edit that would reallocate beyond the machine (batch_size 2^20 of a 1024-wide model) is
    /// rejected with the figure, and the run goes on at its old size.
    @Test(.enabled(if: ResourceBudget.current().limitBytes < 1e12, "this machine has over a terabyte: the edit would fit"))
    func testLiveEdit_overTheBudgetIsRejectedAndTheRunContinues() throws {
        let directory = TemporaryDirectory()
        var config = try TinyTraining.config(in: directory.path)
        config.embeddingWidth = 1024
        config.headCount = 2
        config.maxIterations = 1000
        config.checkpointInterval = 0
        let session = TrainingSession(origin: .start(config: config, directory: directory.path + "/run"))
        defer { session.stop(saving: false) }
        try waitUntil("idle") { session.snapshot().state == .idle }
        session.send(.set(key: "batch_size", value: "1048576"))
        session.send(.step(1))
        try waitUntil("1 step", state: { "\(session.snapshot().state)" }) { session.snapshot().step == 1 && session.snapshot().state == .paused }
        let rejections = session.takeEvents().compactMap { event -> String? in
            if case .settingRejected(_, let message) = event { return message }
            return nil
        }
        #expect(rejections.count == 1 && rejections[0].contains("would need"), "\(rejections)")
        #expect(session.snapshot().config?.batchSize == 4)
    }
}
