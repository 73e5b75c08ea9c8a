// The training loop: AdamW against hand-computed values, overfitting a tiny batch, data-parallel
// determinism, checkpoint round trips and bit-exact resume.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite(.serialized) struct TrainerTests {
    /// Relative tolerance for float32 arithmetic against Double hand computation.
    static let handTolerance: Float = 1e-5

    @Test func testAdamW_twoStepsMatchHandComputedValues() {
        let settings = AdamWSettings(learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.5)
        let p = FloatBuffer([1.0, -2.0]), m = FloatBuffer(count: 2), v = FloatBuffer(count: 2)
        let g1 = FloatBuffer([0.5, -1.0]), g2 = FloatBuffer([-0.25, 2.0])
        AdamW.update(parameters: p.pointer, gradients: g1.pointer, m: m.pointer, v: v.pointer, count: 2,
                     settings: settings, step: 1, decays: true)
        // Step 1: m = 0.1 g, v = 0.01 g²; m̂ = g, v̂ = g², so the Adam step is lr·sign(g) (up to eps).
        // p ← p·(1 − lr·wd) − lr·m̂/(√v̂ + eps): 1·0.95 − 0.1 = 0.85 ; −2·0.95 + 0.1 = −1.8
        #expect(abs(p[0] - 0.85) < Self.handTolerance)
        #expect(abs(p[1] - -1.8) < Self.handTolerance)
        AdamW.update(parameters: p.pointer, gradients: g2.pointer, m: m.pointer, v: v.pointer, count: 2,
                     settings: settings, step: 2, decays: true)
        // Step 2 by hand in Double.
        func expected(_ p1: Double, _ ga: Double, _ gb: Double) -> Double {
            let m = 0.9 * (0.1 * ga) + 0.1 * gb
            let v = 0.99 * (0.01 * ga * ga) + 0.01 * gb * gb
            let mHat = m / (1 - 0.81), vHat = v / (1 - 0.9801)
            return p1 * (1 - 0.05) - 0.1 * mHat / (vHat.squareRoot() + 1e-8)
        }
        #expect(abs(Double(p[0]) - expected(0.85, 0.5, -0.25)) < 1e-5)
        #expect(abs(Double(p[1]) - expected(-1.8, -1.0, 2.0)) < 1e-5)
    }

    @Test func testAdamW_noDecayForVectorsAndCKernelMatchesReference() {
        var generator = RandomGenerator(seed: 7)
        let n = 1000
        let values = (0..<n).map { _ in generator.nextNormal() }
        let grads = FloatBuffer((0..<n).map { _ in generator.nextNormal() })
        let settings = AdamWSettings(learningRate: 0.01, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1)
        for decays in [true, false] {
            let fast = FloatBuffer(values), reference = FloatBuffer(values)
            let m1 = FloatBuffer(count: n), v1 = FloatBuffer(count: n), m2 = FloatBuffer(count: n), v2 = FloatBuffer(count: n)
            for step in 1...3 {
                AdamW.update(parameters: fast.pointer, gradients: grads.pointer, m: m1.pointer, v: v1.pointer, count: n,
                             settings: settings, step: step, decays: decays)
                AdamW.referenceUpdate(parameters: reference.pointer, gradients: grads.pointer, m: m2.pointer, v: v2.pointer,
                                      count: n, settings: settings, step: step, decays: decays)
            }
            #expect(maxRelativeError(fast.array, reference.array) < 1e-6)
        }
        // Without decay and with zero gradient the parameters do not move.
        let p = FloatBuffer([3.0]), zero = FloatBuffer([0.0]), m = FloatBuffer(count: 1), v = FloatBuffer(count: 1)
        AdamW.update(parameters: p.pointer, gradients: zero.pointer, m: m.pointer, v: v.pointer, count: 1,
                     settings: settings, step: 1, decays: false)
        #expect(p[0] == 3.0)
    }

    @Test func testGradientClipping_scalesToMaxNormAndReportsNormBefore() {
        let g = FloatBuffer([3, 4])
        let norm = GradientClipping.clip(g.pointer, count: 2, maxNorm: 1)
        #expect(abs(norm - 5) < 1e-9)
        #expect(abs(g[0] - 0.6) < 1e-6 && abs(g[1] - 0.8) < 1e-6)
        let small = FloatBuffer([0.3, 0.4])
        GradientClipping.clip(small.pointer, count: 2, maxNorm: 1)
        #expect(small.array == [0.3, 0.4])
    }

    @Test func testGradientClipping_unscalesAndClipsInOnePass() {
        // Gradients scaled by 4 (a loss scale): unscaled norm 5 clips to 1; unscaled norm 0.5 only unscales.
        let scaled = FloatBuffer([12, 16])
        GradientClipping.clip(scaled.pointer, count: 2, norm: 5, maxNorm: 1, unscale: 0.25)
        #expect(abs(scaled[0] - 0.6) < 1e-6 && abs(scaled[1] - 0.8) < 1e-6)
        let small = FloatBuffer([1.2, 1.6])
        GradientClipping.clip(small.pointer, count: 2, norm: 0.5, maxNorm: 1, unscale: 0.25)
        #expect(small.array == [0.3, 0.4])
        let unclipped = FloatBuffer([12, 16])
        GradientClipping.clip(unclipped.pointer, count: 2, norm: 5, maxNorm: 0, unscale: 0.25)
        #expect(unclipped.array == [3, 4])
    }

    @Test func testTrainer_overfitsATinyBatch() throws {
        let directory = TemporaryDirectory()
        var config = try TinyTraining.config(in: directory.path)
        config.maxIterations = 150
        config.learningRate = 3e-3
        config.minLearningRate = 3e-3
        config.warmupIterations = 0
        config.weightDecay = 0
        config.evalInterval = 1000
        let data = try TrainingRun.prepareData(config)
        // Train on one short stretch of text (two possible windows): the loss must collapse.
        let window = Array(data.splits.train.prefix(config.contextLength + 2))
        let splits = TokenSplits(train: window, validation: data.splits.validation)
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: splits)
        let first = try trainer.trainStep().loss
        var last = first
        for _ in 1..<150 { last = try trainer.trainStep().loss }
        #expect(first > 2.0)
        #expect(last < 0.05, "loss after 150 steps on one window: \(last)")
    }

    func losses(_ trainer: Trainer, steps: Int) throws -> [Float] {
        try (0..<steps).map { _ in try trainer.trainStep().loss }
    }

    @Test func testTrainer_workersRepeatExactlyAndMatchOneWorker() throws {
        let directory = TemporaryDirectory()
        func run(workers: Int) throws -> [Float] {
            let config = try TinyTraining.config(in: directory.path, workers: workers)
            let data = try TrainingRun.prepareData(config)
            return try losses(try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits), steps: 6)
        }
        let two = try run(workers: 2), twoAgain = try run(workers: 2), one = try run(workers: 1), three = try run(workers: 3)
        #expect(two == twoAgain)
        #expect(maxRelativeError(two, one) < 1e-4)
        #expect(maxRelativeError(three, one) < 1e-4)
    }

    @Test func testCheckpoint_roundTripRestoresEverything() throws {
        let directory = TemporaryDirectory()
        let config = try TinyTraining.config(in: directory.path)
        let run = try TrainingRun.start(config: config, directory: directory.path + "/run")
        for _ in 0..<3 { try run.step() }
        let path = try run.saveCheckpoint()
        try AtomicDirectory.verify(path)
        run.close()   // the writing process ends; its lock goes with it
        let resumed = try TrainingRun.resume(directory: directory.path + "/run")
        #expect(resumed.trainer.step == 3)
        #expect(resumed.trainer.model.parameters.array == run.trainer.model.parameters.array)
        #expect(resumed.trainer.optimizerState.exportedTensors() == run.trainer.optimizerState.exportedTensors())
        #expect(resumed.trainer.optimizerState.step == 3)
        #expect(resumed.trainer.dataGenerator == run.trainer.dataGenerator)
        #expect(resumed.trainer.history == run.trainer.history)
        let loaded = try ModelDirectory.load(path)
        #expect(loaded.model.parameters.array == run.trainer.model.parameters.array)
        #expect(loaded.tokenizer == run.trainer.tokenizer)
    }

    @Test func testResume_continuesBitForBitLikeAnUninterruptedRun() throws {
        let directory = TemporaryDirectory()
        let config = try TinyTraining.config(in: directory.path)
        let straight = try TrainingRun.start(config: config, directory: directory.path + "/straight")
        let reference = try (0..<8).map { _ in try straight.step().loss }

        let first = try TrainingRun.start(config: config, directory: directory.path + "/split")
        var split = try (0..<4).map { _ in try first.step().loss }   // checkpoint_interval = 4 writes ckpt-000004
        first.close()   // the writing process ends; its lock goes with it
        let second = try TrainingRun.resume(directory: directory.path + "/split")
        #expect(second.trainer.step == 4)
        split += try (0..<4).map { _ in try second.step().loss }
        #expect(split == reference)
        #expect(second.trainer.model.parameters.array == straight.trainer.model.parameters.array)
        let log = try String(contentsOfFile: directory.path + "/split/" + TrainingRun.logName, encoding: .utf8)
        #expect(log.split(separator: "\n").count == 8)
    }

    @Test func testTrainingRun_refusesToOverwriteARun() throws {
        let directory = TemporaryDirectory()
        let config = try TinyTraining.config(in: directory.path)
        let run = try TrainingRun.start(config: config, directory: directory.path + "/run")
        try run.step()
        #expect(throws: WhittleError.self) { _ = try TrainingRun.start(config: config, directory: directory.path + "/run") }
    }

    @Test func testResume_detectsAChangedDataset() throws {
        let directory = TemporaryDirectory()
        let config = try TinyTraining.config(in: directory.path)
        let run = try TrainingRun.start(config: config, directory: directory.path + "/run")
        for _ in 0..<4 { try run.step() }
        try String(repeating: "the lazy dog sleeps. ", count: 80).write(toFile: config.datasetPath, atomically: true, encoding: .utf8)
        run.close()   // the writing process ends; its lock goes with it
        let error = #expect(throws: WhittleError.self) { _ = try TrainingRun.resume(directory: directory.path + "/run") }
        #expect(error?.message.contains("changed") == true)
    }

    @Test func testTrainingRun_initFromAModelAdoptsItsShapeWeightsAndTokenizer() throws {
        let directory = TemporaryDirectory()
        let config = try TinyTraining.config(in: directory.path)
        let first = try TrainingRun.start(config: config, directory: directory.path + "/first")
        while !first.trainer.isFinished { try first.step() }
        var second = config
        second.initFrom = directory.path + "/first"   // a run directory: its newest checkpoint
        second.layerCount = 3                          // replaced by the model's shape
        let run = try TrainingRun.start(config: second, directory: directory.path + "/second")
        #expect(run.trainer.config.layerCount == 2)
        #expect(run.trainer.model.parameters.array == first.trainer.model.parameters.array)
        #expect(run.trainer.tokenizer == first.trainer.tokenizer)
        #expect(run.trainer.step == 0)

        var missing = config
        missing.initFrom = directory.path + "/nowhere"
        #expect(throws: WhittleError.self) { _ = try TrainingRun.start(config: missing, directory: directory.path + "/third") }
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/third"))
    }

    @Test func testTrainer_activationCheckpointingTrainsIdentically() throws {
        let directory = TemporaryDirectory()
        func run(_ checkpointing: String) throws -> [Float] {
            var config = try TinyTraining.config(in: directory.path)
            config.checkpointing = checkpointing
            let data = try TrainingRun.prepareData(config)
            return try losses(try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits), steps: 4)
        }
        let plain = try run("false")
        #expect(try run("true") == plain)
        #expect(try run("every-2") == plain)
    }

    @Test func testTrainer_liveEditsRebuildArenasAtAStepBoundary() throws {
        let directory = TemporaryDirectory()
        let config = try TinyTraining.config(in: directory.path)
        let data = try TrainingRun.prepareData(config)
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
        try trainer.trainStep()
        try trainer.update { $0.batchSize = 6; $0.workers = 2; $0.checkpointing = "true" }
        #expect(trainer.workers.map(\.arena.B) == [3, 3])
        #expect(trainer.workers.allSatisfy { $0.arena.checkpointEvery == 1 })
        let record = try trainer.trainStep()
        #expect(record.tokens == 6 * config.contextLength)
        #expect(record.loss.isFinite)
        #expect(throws: WhittleError.self) { try trainer.update { $0.layerCount = 3 } }
    }
}
