// Mixed-precision training runs: PyTorch GradScaler semantics of the loss scaler, bf16/fp16 runs that
// train like fp32, flushed-gradient counts without the scaler, and an exact resume of the scaler state.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite(.serialized) struct LossScalingTests {
    @Test func testLossScaler_growsAfterIntervalAndBacksOffOnOverflow() {
        var scaler = LossScaler(growthInterval: 3)
        #expect(scaler.scale == 65536)
        scaler.update(gradientsFinite: true)
        scaler.update(gradientsFinite: true)
        #expect(scaler.scale == 65536)
        scaler.update(gradientsFinite: true)
        #expect(scaler.scale == 131072)            // ×2 after 3 clean steps in a row
        scaler.update(gradientsFinite: true)
        scaler.update(gradientsFinite: false)
        #expect(scaler.scale == 65536)             // ×0.5 on overflow, and the clean count restarts
        #expect(scaler.skippedSteps == 1)
        scaler.update(gradientsFinite: true)
        scaler.update(gradientsFinite: true)
        #expect(scaler.scale == 65536)
        scaler.update(gradientsFinite: true)
        #expect(scaler.scale == 131072)
    }

    func run(_ precision: Precision, scaling: Bool = true, steps: Int = 8, in directory: String) throws -> Trainer {
        var config = try TinyTraining.config(in: directory)
        config.precision = precision
        config.lossScaling = scaling
        config.maxIterations = steps
        let data = try TrainingRun.prepareData(config)
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
        for _ in 0..<steps { try trainer.trainStep() }
        return trainer
    }

    @Test(arguments: [Precision.bf16, .fp16])
    func testHalfRuns_trainLikeFP32(precision: Precision) throws {
        let directory = TemporaryDirectory()
        let reference = try run(.fp32, in: directory.path).history.map(\.loss)
        let trainer = try run(precision, in: directory.path)
        let losses = trainer.history.map(\.loss)
        #expect(maxRelativeError(losses, reference) < 0.02, "\(losses) vs \(reference)")
        #expect(trainer.history.allSatisfy { $0.flushedGradients != nil })
        #expect(trainer.history.allSatisfy { ($0.lossScale != nil) == (precision == .fp16) })
    }

    @Test func testFP16_withoutTheScalerFlushesMoreGradients() throws {
        let directory = TemporaryDirectory()
        let scaled = try run(.fp16, in: directory.path).history.compactMap(\.flushedGradients).reduce(0, +)
        let unscaled = try run(.fp16, scaling: false, in: directory.path)
        #expect(unscaled.lossScaler == nil)
        #expect(unscaled.history.allSatisfy { $0.lossScale == nil })
        let lost = unscaled.history.compactMap(\.flushedGradients).reduce(0, +)
        #expect(lost > scaled, "flushed without scaling \(lost), with \(scaled)")
    }

    @Test func testFP16_overflowSkipsTheStepAndHalvesTheScale() throws {
        let directory = TemporaryDirectory()
        var config = try TinyTraining.config(in: directory.path)
        config.precision = .fp16
        let data = try TrainingRun.prepareData(config)
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
        // A scale near 2^40 overflows fp16's 65504 in the first rounded gradients.
        var huge = LossScaler(growthInterval: 1)
        while huge.scale < 1.0e12 { huge.update(gradientsFinite: true) }
        huge.growthInterval = 2000
        trainer.lossScaler = huge
        let before = trainer.model.parameters.array
        let record = try trainer.trainStep()
        #expect(record.skipped == true)
        #expect(trainer.model.parameters.array == before)
        #expect(trainer.lossScaler!.scale == huge.scale / 2)
        #expect(trainer.step == 1)
    }

    @Test func testResume_fp16ScalerContinuesBitForBit() throws {
        let directory = TemporaryDirectory()
        var config = try TinyTraining.config(in: directory.path)
        config.precision = .fp16
        let straight = try TrainingRun.start(config: config, directory: directory.path + "/straight")
        let reference = try (0..<8).map { _ in try straight.step().loss }
        let first = try TrainingRun.start(config: config, directory: directory.path + "/split")
        var split = try (0..<4).map { _ in try first.step().loss }
        first.close()   // the writing process ends; its lock goes with it
        let second = try TrainingRun.resume(directory: directory.path + "/split")
        #expect(second.trainer.lossScaler == first.trainer.lossScaler)
        split += try (0..<4).map { _ in try second.step().loss }
        #expect(split == reference)
    }

    @Test func testLiveEdit_switchesPrecisionAtAStepBoundary() throws {
        let directory = TemporaryDirectory()
        let config = try TinyTraining.config(in: directory.path)
        let data = try TrainingRun.prepareData(config)
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
        try trainer.trainStep()
        try trainer.update { $0.precision = .fp16 }
        #expect(trainer.lossScaler?.scale == 65536)
        #expect(try trainer.trainStep().flushedGradients != nil)
        try trainer.update { $0.precision = .bf16 }
        #expect(trainer.lossScaler == nil)
        try trainer.trainStep()
        try trainer.update { $0.precision = .fp32 }
        #expect(try trainer.trainStep().flushedGradients == nil)
    }
}
