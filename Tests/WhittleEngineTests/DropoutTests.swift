// Dropout: the mask's statistics, backward through every dropout site against finite differences
// (a fixed mask makes the loss a deterministic function of the weights), and independence of the
// mask from how a batch is split over workers.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct DropoutTests {
    @Test func testDropout_dropsAboutPAndScalesTheRest() {
        let count = 100_000
        let x = FloatBuffer(Array(repeating: 1, count: count))
        Dropout.apply(x.pointer, count: count, probability: 0.2, seed: 42, firstIndex: 0)
        let zeros = x.array.filter { $0 == 0 }.count
        #expect(abs(Double(zeros) / Double(count) - 0.2) < 0.01)
        #expect(x.array.allSatisfy { $0 == 0 || abs($0 - 1.25) < 1e-6 })
        // Same seed and indices give the same mask; an offset index range continues the same stream.
        let tail = FloatBuffer(Array(repeating: 1, count: 100))
        Dropout.apply(tail.pointer, count: 100, probability: 0.2, seed: 42, firstIndex: 500)
        #expect(tail.array == Array(x.array[500..<600]))
    }

    /// With dropout on at every site, GPT.backward still matches centred finite differences.
    @Test(arguments: [5, 33])
    func testGPT_backwardWithDropoutMatchesFiniteDifferences(T: Int) {
        let dimensions = GPTDimensions(L: 2, NH: 2, C: 8, maxT: 40, V: 11)
        let model = ModelGradientCheckTests.TinyModel(dimensions, B: 2, T: T, seed: 31, supportsDropout: true)
        model.arena.dropout = DropoutSettings(probability: 0.25, seed: 9, firstSequence: 3)
        let analytic = model.gradients(.fast)
        var generator = RandomGenerator(seed: 32)
        var ours: [Float] = [], numeric: [Float] = []
        for tensor in model.layout.tensors {
            for _ in 0..<3 {
                let position = tensor.offset + generator.nextInt(below: tensor.count)
                ours.append(analytic[position])
                let near = centredDifferences(of: model.parameters.pointer + position, count: 1,
                                              step: ModelGradientCheckTests.step) { model.loss(.fast) }[0]
                let far = centredDifferences(of: model.parameters.pointer + position, count: 1,
                                             step: 2 * ModelGradientCheckTests.step) { model.loss(.fast) }[0]
                numeric.append((4 * near - far) / 3)
            }
        }
        let error = maxRelativeError(ours, numeric, floor: ModelGradientCheckTests.floor)
        #expect(error < ModelGradientCheckTests.tolerance, "max relative error \(error)")
        // Dropout really changed the function: without it the loss differs.
        let withDropout = model.loss(.fast)
        model.arena.dropout = nil
        #expect(model.loss(.fast) != withDropout)
    }

    @Test func testTrainer_dropoutMasksDoNotDependOnTheWorkerSplit() throws {
        let directory = TemporaryDirectory()
        func run(workers: Int) throws -> [Float] {
            var config = try TinyTraining.config(in: directory.path, workers: workers)
            config.dropout = 0.2
            let data = try TrainingRun.prepareData(config)
            let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
            return try (0..<5).map { _ in try trainer.trainStep().loss }
        }
        let one = try run(workers: 1), two = try run(workers: 2), twoAgain = try run(workers: 2)
        #expect(two == twoAgain)
        #expect(maxRelativeError(two, one) < 1e-4)
    }

    @Test func testTrainer_estimatesRunWithoutDropout() throws {
        let directory = TemporaryDirectory()
        var config = try TinyTraining.config(in: directory.path)
        config.dropout = 0.5
        let data = try TrainingRun.prepareData(config)
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
        try trainer.trainStep()
        let model = trainer.model
        let evaluation = try Evaluator.evaluate(model: model, tokens: data.splits.validation)
        let again = try Evaluator.evaluate(model: model, tokens: data.splits.validation)
        #expect(evaluation.loss == again.loss)
        #expect(trainer.workers.allSatisfy { $0.arena.dropout == nil })
    }
}
