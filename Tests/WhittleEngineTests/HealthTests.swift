// Run health: early stopping, the overfitting warning, and non-finite values that stop a step and
// never reach a checkpoint.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct HealthTests {
    func trainer(in directory: TemporaryDirectory, edit: (inout TrainingConfig) -> Void = { _ in }) throws -> Trainer {
        var config = try TinyTraining.config(in: directory.path)
        edit(&config)
        let data = try TrainingRun.prepareData(config)
        return try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
    }

    func record(_ step: Int, train: Float, validation: Float) -> StepRecord {
        StepRecord(step: step, loss: train, learningRate: 1e-3, gradientNorm: 1, milliseconds: 1, tokens: 1,
                   evaluation: LossEstimate(train: train, validation: validation))
    }

    @Test func testEarlyStopping_stopsAfterPatienceEvaluationsWithoutANewBest() throws {
        let directory = TemporaryDirectory()
        let trainer = try self.trainer(in: directory) { $0.earlyStoppingPatience = 2 }
        trainer.history = [record(1, train: 3, validation: 3), record(2, train: 2.5, validation: 2.4)]
        #expect(!trainer.stoppedEarly)
        trainer.history.append(record(3, train: 2.4, validation: 2.45))
        #expect(!trainer.stoppedEarly, "one evaluation without improvement is within patience 2")
        trainer.history.append(record(4, train: 2.3, validation: 2.40))   // ties the best: no improvement
        #expect(trainer.stoppedEarly && trainer.isFinished)
        trainer.history.append(record(5, train: 2.2, validation: 2.3))
        #expect(!trainer.stoppedEarly, "a new best clears it")
    }

    @Test func testEarlyStopping_isOffByDefault() throws {
        let directory = TemporaryDirectory()
        let trainer = try self.trainer(in: directory)
        trainer.history = (1...10).map { record($0, train: 2, validation: 2 + Float($0)) }
        #expect(!trainer.stoppedEarly)
    }

    @Test func testOverfittingWarning_whenValidationRisesWhileTrainingFalls() throws {
        let directory = TemporaryDirectory()
        let trainer = try self.trainer(in: directory)
        trainer.history = [record(1, train: 2.0, validation: 2.1)]
        #expect(trainer.overfittingWarning(after: LossEstimate(train: 1.9, validation: 2.2))?.contains("overfitting") == true)
        #expect(trainer.overfittingWarning(after: LossEstimate(train: 1.9, validation: 2.0)) == nil)
        #expect(trainer.overfittingWarning(after: LossEstimate(train: 2.1, validation: 2.2)) == nil)
    }

    @Test func testNonFinite_stepStopsNamingATensorAndCheckpointIsRefused() throws {
        let directory = TemporaryDirectory()
        let trainer = try self.trainer(in: directory)
        try trainer.trainStep()
        let tensor = trainer.model.layout.tensor(named: "h.1.mlp.c_fc.weight")!
        trainer.model.parameters[tensor.offset + 3] = .nan
        let before = trainer.model.parameters.array
        let error = #expect(throws: WhittleError.self) { try trainer.trainStep() }
        #expect(error?.kind == .numeric)
        #expect(error?.message.contains("first non-finite gradient") == true)
        #expect(trainer.step == 1, "the failed step is not counted")
        #expect(trainer.model.parameters.array.elementsEqual(before) { $0 == $1 || ($0.isNaN && $1.isNaN) },
                "the weights were not updated")
        let refusal = #expect(throws: WhittleError.self) { _ = try trainer.checkpointFiles(corpusSHA256: "") }
        #expect(refusal?.message.contains("h.1.mlp.c_fc.weight") == true)
    }
}
