// Memory estimates before a run exists: ActivationArena.byteCounts from dimensions equals an
// allocated arena's byteCounts, and TrainingConfig.memoryEstimate equals the live ledger of a
// Trainer built from the same configuration.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct MemoryEstimateTests {
    @Test func testArenaByteCounts_matchAnAllocatedArena() {
        let shapes: [(GPTDimensions, Int, Int)] = [
            (GPTDimensions(L: 1, NH: 1, C: 8, maxT: 4, V: 5), 1, 4),
            (GPTDimensions(L: 2, NH: 2, C: 16, maxT: 16, V: 65), 3, 16),
            (GPTDimensions(L: 4, NH: 4, C: 64, maxT: 64, V: 65, hasBias: false), 2, 32),
        ]
        for (d, B, T) in shapes {
            for dropout in [false, true] {
                for every in 0...min(d.L, 3) {
                    let arena = ActivationArena(dimensions: d, B: B, T: T, supportsDropout: dropout, checkpointEvery: every)
                    let computed = ActivationArena.byteCounts(dimensions: d, B: B, T: T, supportsDropout: dropout,
                                                              checkpointEvery: every)
                    #expect(computed == arena.byteCounts, "\(d) B=\(B) T=\(T) dropout=\(dropout) every=\(every)")
                }
            }
        }
    }

    @Test func testMemoryEstimate_equalsTheLedgerOfARealTrainer() throws {
        let directory = TemporaryDirectory()
        let cases: [(Int, Int, Float, OptimizerKind, String)] = [
            (1, 4, 0, .adamw, "false"), (2, 5, 0.1, .adamw, "false"), (1, 3, 0, .sgd, "true"),
            (2, 4, 0, .lion, "every-2"), (1, 2, 0, .adafactor, "true"), (1, 2, 0, .adamw8bit, "false"),
        ]
        for (workers, batch, dropout, optimizer, checkpointing) in cases {
            var config = try TinyTraining.config(in: directory.path)
            config.optimizer = optimizer
            config.checkpointing = checkpointing
            config.workers = workers
            config.batchSize = batch
            config.dropout = dropout
            let data = try TrainingRun.prepareData(config)
            let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
            let live = TrainingSession.ledger(of: trainer)
            let estimate = config.memoryEstimate(vocabularySize: data.tokenizer.vocabularySize)
            #expect(estimate.weights == live.weights && estimate.gradients == live.gradients
                && estimate.optimizer == live.optimizer)
            #expect(estimate.activations == live.activations && estimate.workspace == live.workspace)
            #expect(config.parameterCount(vocabularySize: data.tokenizer.vocabularySize) == trainer.model.parameterCount)
        }
    }
}
