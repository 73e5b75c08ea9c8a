// The prune prediction against the pass itself: for every kind of target (per tensor, per row,
// SparseGPT blocks with a partial last block, N:M with the embedding, structured heads and neurons)
// the predicted weights file size, parameters and bits per weight are the file `PruningJob` writes,
// to the byte; a global threshold is exact in its count and close in size; impossible plans throw
// what the pass would; and a prune session cancelled before it starts writes nothing.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite(.serialized) struct PruningPredictionTests {
    /// A global threshold's header digits depend on how its count falls over the tensors.
    static let globalHeaderSlackBytes = 64

    /// A 2-block model (width 48, 4 heads: the MLP's c_proj has 192 inputs, a full and a partial
    /// SparseGPT block) saved in `directory`, and a calibration text beside it.
    func base(in directory: String) throws -> (model: String, text: String) {
        let corpus = TinyCorpus.pangram(repeats: 40)
        let tokenizer = CharTokenizer(text: corpus)
        var generator = RandomGenerator(seed: 5)
        let model = try GPTModel.initialized(config: ModelConfig(layerCount: 2, headCount: 4, embeddingWidth: 48, contextLength: 16,
                                                                 vocabularySize: tokenizer.vocabularySize), generator: &generator)
        try ModelDirectory.save(model: model, tokenizer: tokenizer, to: directory + "/base")
        try corpus.write(toFile: directory + "/calibration.txt", atomically: true, encoding: .utf8)
        return (directory + "/base", directory + "/calibration.txt")
    }

    func run(_ plan: PruningPlan, base: (model: String, text: String), to output: String) throws -> PruningJob.Outcome {
        try PruningJob.run(PruningJob.Request(basePath: base.model, plan: plan, calibrationSamples: 8, calibrationData: base.text,
                                              output: output, whittleVersion: "test", command: "test"))
    }

    func fileSize(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
    }

    @Test func testPredict_isTheWrittenFileForEveryExactTarget() throws {
        let scratch = TemporaryDirectory()
        let base = try base(in: scratch.path)
        let config = try LoadedModel.load(base.model).config
        let plans = [
            PruningPlan(method: .magnitude, sparsity: 0.3),
            PruningPlan(method: .wanda, sparsity: 0.5),
            PruningPlan(method: .sparsegpt, sparsity: 0.45),
            PruningPlan(method: .sparsegpt, sparsity: 0.5, pattern: SparsityPattern(keep: 2, group: 4)),
            PruningPlan(method: .magnitude, sparsity: 0.5, pattern: SparsityPattern(keep: 2, group: 4), includeEmbedding: true),
            PruningPlan(method: .magnitude, sparsity: 0.25, structured: .heads),
            PruningPlan(method: .wanda, sparsity: 0.3, structured: .neurons),
        ]
        for (i, plan) in plans.enumerated() {
            let predicted = try plan.predict(config: config)
            let outcome = try run(plan, base: base, to: scratch.path + "/v\(i)")
            let variant = outcome.variant
            #expect(predicted.isExact, "\(plan)")
            #expect(predicted.weightsFile == variant.weightsFile, "\(plan)")
            #expect(predicted.fileBytes == variant.weightsFileBytes, "\(plan)")
            #expect(predicted.fileBytes == (try fileSize(outcome.directory + "/" + variant.weightsFile)), "\(plan)")
            #expect(predicted.parameterCount == variant.parameterCount, "\(plan)")
            #expect(predicted.bitsPerWeight == variant.bitsPerWeight, "\(plan)")
            if plan.structured == nil {
                #expect(predicted.prunedCount == outcome.reports.reduce(0) { $0 + $1.pruned }, "\(plan)")
                #expect(predicted.memoryBytes == 4 * outcome.baseParameterCount, "pruned zeros still run dense")
            } else {
                #expect(predicted.config.layers == (try LoadedModel.load(outcome.directory)).config.layers, "\(plan)")
                #expect(predicted.memoryBytes == 4 * variant.parameterCount)
            }
        }
    }

    @Test func testPredict_globalThresholdIsExactInCountAndCloseInSize() throws {
        let scratch = TemporaryDirectory()
        let base = try base(in: scratch.path)
        let plan = PruningPlan(method: .magnitude, sparsity: 0.6, scope: .global)
        let predicted = try plan.predict(config: try LoadedModel.load(base.model).config)
        let outcome = try run(plan, base: base, to: scratch.path + "/global")
        #expect(!predicted.isExact)
        #expect(predicted.prunedCount == outcome.reports.reduce(0) { $0 + $1.pruned })
        #expect(abs(predicted.fileBytes - outcome.variant.weightsFileBytes) <= Self.globalHeaderSlackBytes)
    }

    @Test func testPredict_refusesWhatThePassRefuses() throws {
        let config = ModelConfig(layerCount: 2, headCount: 4, embeddingWidth: 48, contextLength: 16, vocabularySize: 30)
        #expect(throws: WhittleError.self) { try PruningPlan(method: .wanda, sparsity: 0.05, structured: .heads).predict(config: config) }
        #expect(throws: WhittleError.self) { try PruningPlan(method: .magnitude, sparsity: 0.99, structured: .heads).predict(config: config) }
        #expect(throws: WhittleError.self) { try PruningPlan(method: .magnitude, sparsity: 0.5, pattern: SparsityPattern(keep: 3, group: 5)).predict(config: config) }
        #expect(throws: WhittleError.self) { try PruningPlan(method: .sparsegpt, sparsity: 1.2).predict(config: config) }
    }

    @Test func testSession_cancelledBeforeWritingLeavesNothing() throws {
        let scratch = TemporaryDirectory()
        let base = try base(in: scratch.path)
        let output = scratch.path + "/variants/cancelled"
        let session = PruningSession(PruningJob.Request(basePath: base.model, plan: PruningPlan(method: .wanda, sparsity: 0.5),
                                                        calibrationSamples: 8, calibrationData: base.text, output: output,
                                                        whittleVersion: "test", command: "test"))
        session.cancel()
        #expect(session.waitUntilEnded(timeoutSeconds: 30))
        #expect(session.takeEvents() == [.cancelled])
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/variants").isEmpty, "no temporary directory left")
    }

    @Test func testSession_publishesTheVariantAndReportsProgress() throws {
        let scratch = TemporaryDirectory()
        let base = try base(in: scratch.path)
        let output = scratch.path + "/variants/wanda50"
        let session = PruningSession(PruningJob.Request(basePath: base.model, plan: PruningPlan(method: .wanda, sparsity: 0.5),
                                                        calibrationSamples: 8, calibrationData: base.text, output: output,
                                                        whittleVersion: "test", command: "test"))
        #expect(session.waitUntilEnded(timeoutSeconds: 60))
        #expect(session.takeEvents() == [.finished(directory: output)])
        #expect(session.snapshot().state == .finished)
        #expect(session.snapshot().progress.fraction == 1)
        #expect(FileManager.default.fileExists(atPath: output + "/" + ModelDirectory.sparseWeightsName))
    }
}
