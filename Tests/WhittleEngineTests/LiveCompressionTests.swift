// Compressing a run mid-training: after a prune-now every pruned weight stays exactly zero through
// later AdamW steps with two workers (a second prune only adds to the mask); a run resumed after the
// prune equals the uninterrupted one bit for bit; quantize-now leaves the fp32 master, the optimizer
// state and the data cursor untouched, so training continues exactly as without it; and the session
// answers both commands with events, snapshot markers and log.jsonl lines that survive a resume.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite(.serialized) struct LiveCompressionTests {
    /// Few calibration and validation windows: the tiny corpus has 16 validation windows of 16 tokens.
    func prune(_ plan: PruningPlan) -> PruneNowRequest {
        PruneNowRequest(plan: plan, calibrationSamples: 4, evaluationWindows: 4)
    }

    func quantize(_ format: WeightFormat, _ method: RoundingMethod = .rtn) -> QuantizeNowRequest {
        QuantizeNowRequest(plan: QuantizationPlan(defaultFormat: format), method: method, calibrationSamples: 4,
                           evaluationWindows: 4)
    }

    func config(_ directory: TemporaryDirectory) throws -> TrainingConfig {
        var config = try TinyTraining.config(in: directory.path, workers: 2)
        config.optimizer = .adamw
        config.weightDecay = 0.1   // decay would move a zero weight if nothing held it
        config.embeddingWidth = 32   // whole 32-weight blocks in every row, for quantize-now
        return config
    }

    /// Every per-element float optimizer state value of the run, in tensor order.
    func optimizerValues(_ trainer: Trainer) -> [Float] {
        trainer.optimizerState.slots.flatMap { arrays in
            arrays.flatMap { array -> [Float] in
                guard case .float32(let buffer) = array.storage else { return [] }
                return Array(UnsafeBufferPointer(start: buffer.pointer, count: array.count))
            }
        }
    }

    func expectStateZeroWherePruned(_ trainer: Trainer, _ mask: SparsityMask) {
        for entry in mask.entries {
            let index = trainer.model.layout.tensors.firstIndex { $0.name == entry.tensor }!
            for array in trainer.optimizerState.slots[index] {
                guard case .float32(let buffer) = array.storage else { continue }
                #expect((0..<entry.count).allSatisfy { entry.isKept($0) || buffer.pointer[$0] == 0 }, "\(array.name) of \(entry.tensor)")
            }
        }
    }

    @Test func testPruneNow_prunedWeightsStayZeroThroughAdamWStepsWithTwoWorkers() throws {
        let directory = TemporaryDirectory()
        let config = try config(directory)
        let data = try TrainingRun.prepareData(config)
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
        for _ in 0..<3 { try trainer.trainStep() }
        let event = try trainer.pruneNow(prune(PruningPlan(method: .wanda, sparsity: 0.5)))
        let mask = try #require(trainer.mask)
        #expect(event.kind == .prune && event.step == 3 && event.settings == "wanda 50%")
        #expect(abs(event.sparsity! - 0.5) < 0.01)
        #expect(event.lossBefore.isFinite && event.lossAfter.isFinite && event.lossAfter != event.lossBefore)
        #expect(event.divergence > 0 && event.tokens == 4 * config.contextLength)
        #expect(mask.holds(in: trainer.model.parameters.pointer))
        expectStateZeroWherePruned(trainer, mask)
        let pruned = trainer.model.parameters.array
        for _ in 0..<4 {
            try trainer.trainStep()
            #expect(mask.holds(in: trainer.model.parameters.pointer))
        }
        expectStateZeroWherePruned(trainer, mask)
        #expect(trainer.model.parameters.array != pruned)   // the kept weights train

        // A second prune adds to the mask: everything pruned before stays pruned.
        try trainer.pruneNow(prune(PruningPlan(method: .magnitude, sparsity: 0.5, pattern: SparsityPattern(keep: 2, group: 4))))
        let both = try #require(trainer.mask)
        for entry in mask.entries {
            let now = both[entry.tensor]!
            #expect((0..<entry.count).allSatisfy { entry.isKept($0) || !now.isKept($0) }, "\(entry.tensor)")
        }
        #expect(both.prunedCount > mask.prunedCount)
        try trainer.trainStep()
        #expect(both.holds(in: trainer.model.parameters.pointer))
    }

    @Test func testPruneNow_structuredPruningIsRefusedAndTheRunIsUnchanged() throws {
        let directory = TemporaryDirectory()
        let config = try config(directory)
        let data = try TrainingRun.prepareData(config)
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
        try trainer.trainStep()
        let before = trainer.model.parameters.array
        let error = #expect(throws: WhittleError.self) {
            try trainer.pruneNow(prune(PruningPlan(method: .magnitude, sparsity: 0.5, structured: .heads)))
        }
        #expect(error?.message.contains("shape") == true && error?.hint.contains("--init-from") == true)
        #expect(trainer.mask == nil && trainer.model.parameters.array == before)
    }

    @Test func testPruneNow_resumeAfterThePruneEqualsAnUninterruptedRun() throws {
        let directory = TemporaryDirectory()
        var config = try config(directory)   // a checkpoint every 4 steps
        config.maxIterations = 12   // 8 steps taken: no final checkpoint (model card, sample) to wait for
        let request = prune(PruningPlan(method: .magnitude, sparsity: 0.4))

        let straight = try TrainingRun.start(config: config, directory: directory.path + "/straight")
        var reference = try (0..<2).map { _ in try straight.step().loss }
        try straight.trainer.pruneNow(request)
        reference += try (0..<6).map { _ in try straight.step().loss }

        let first = try TrainingRun.start(config: config, directory: directory.path + "/split")
        var split = try (0..<2).map { _ in try first.step().loss }
        let event = try first.trainer.pruneNow(request)
        try first.record(event)
        split += try (0..<2).map { _ in try first.step().loss }   // the checkpoint at step 4 carries the mask
        first.close()
        let second = try TrainingRun.resume(directory: directory.path + "/split")
        #expect(second.trainer.mask == straight.trainer.mask && second.trainer.mask != nil)
        split += try (0..<4).map { _ in try second.step().loss }
        #expect(split == reference)
        #expect(second.trainer.model.parameters.array == straight.trainer.model.parameters.array)
        #expect(optimizerValues(second.trainer) == optimizerValues(straight.trainer))
        // The event line survives the resume's trimming of the log (its step is before the checkpoint's).
        #expect(try TrainingRun.compressionEvents(in: directory.path + "/split") == [event])
    }

    @Test func testQuantizeNow_leavesTheMasterAndOptimizerStateBitIdentical() throws {
        let directory = TemporaryDirectory()
        var config = try config(directory)
        config.evalInterval = 2   // periodic estimates draw from their own generator: it must not move either
        let data = try TrainingRun.prepareData(config)
        let measured = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
        let plain = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
        var measuredLosses: [Float] = [], plainLosses: [Float] = []
        for _ in 0..<3 { measuredLosses.append(try measured.trainStep().loss) }
        let weights = measured.model.parameters.array, state = optimizerValues(measured)
        let early = try measured.quantizeNow(quantize(.q4_0))
        #expect(measured.model.parameters.array == weights && optimizerValues(measured) == state)
        #expect(early.kind == .quantize && early.step == 3 && early.settings == "q4_0 rtn")
        #expect(early.divergence > 0 && early.lossAfter.isFinite && early.bitsPerWeight! < 32)
        for _ in 0..<3 { measuredLosses.append(try measured.trainStep().loss) }
        let later = try measured.quantizeNow(quantize(.q8_0, .gptq))   // calibrated: reads the train split, moves no cursor
        #expect(later.step == 6 && later.lossBefore != early.lossBefore)
        #expect(later.divergence < early.divergence)   // 8 bits lose less than 4
        for _ in 0..<2 { measuredLosses.append(try measured.trainStep().loss) }
        for _ in 0..<8 { plainLosses.append(try plain.trainStep().loss) }
        #expect(measuredLosses == plainLosses)
        #expect(measured.model.parameters.array == plain.model.parameters.array)
        #expect(optimizerValues(measured) == optimizerValues(plain))
        #expect(measured.history == plain.history.map { record in
            var copy = record
            copy.milliseconds = measured.history[record.step - 1].milliseconds
            return copy
        })
    }

    @Test func testSession_pruneAndQuantizeAnswerWithEventsMarkersAndLogLines() throws {
        let directory = TemporaryDirectory()
        var config = try config(directory)
        config.maxIterations = 1000
        config.checkpointInterval = 0
        config.evalInterval = 100
        let session = TrainingSession(origin: .start(config: config, directory: directory.path + "/run"))
        defer { session.stop(saving: false) }
        session.send(.step(3))
        session.send(.pruneNow(prune(PruningPlan(method: .magnitude, sparsity: 0.5))))
        session.send(.quantizeNow(quantize(.q8_0)))
        session.send(.pruneNow(prune(PruningPlan(method: .magnitude, sparsity: 0.5, structured: .neurons))))
        var events: [TrainingSession.Event] = []
        try waitUntil("three answers", timeout: Deadline.generous) {
            events += session.takeEvents().filter {
                switch $0 {
                case .compressed, .compressionFailed: true
                default: false
                }
            }
            return events.count >= 3 ? true : nil
        }
        guard case .compressed(let pruned) = events[0], case .compressed(let quantized) = events[1],
              case .compressionFailed(let message) = events[2] else {
            Issue.record("unexpected events \(events)")
            return
        }
        // Commands apply in order at step boundaries: the step count first, then both compressions.
        #expect(pruned.kind == .prune && quantized.kind == .quantize)
        #expect(message.contains("shape"))
        let snapshot = session.snapshot()
        #expect(snapshot.compressions == [pruned, quantized] && snapshot.activity == nil)
        #expect(snapshot.unsavedSteps >= 1, "the pruned weights are in no checkpoint yet")
        #expect(try TrainingRun.compressionEvents(in: directory.path + "/run") == [pruned, quantized])
        // Saved and resumed: the markers come back from the log.
        try waitUntil("the three steps") { session.snapshot().step == 3 ? true : nil }
        #expect(session.stop(saving: true))
        let resumed = TrainingSession(origin: .resume(directory: directory.path + "/run", overrides: []))
        defer { resumed.stop(saving: false) }
        let loaded = try waitUntil("the resumed run") { () -> TrainingSession.Snapshot? in
            let snapshot = resumed.snapshot()
            return snapshot.state == .idle ? snapshot : nil
        }
        #expect(loaded.step == 3 && loaded.compressions == [pruned, quantized])
    }

    @Test func testSession_quantizeNowPublishesAVariantOfACheckpointOfTheStep() throws {
        let directory = TemporaryDirectory()
        var config = try config(directory)
        config.maxIterations = 1000
        config.checkpointInterval = 0
        config.evalInterval = 100
        let session = TrainingSession(origin: .start(config: config, directory: directory.path + "/run"))
        defer { session.stop(saving: false) }
        session.send(.step(2))
        try waitUntil("two steps") { session.snapshot().state == .paused && session.snapshot().step == 2 ? true : nil }
        var request = quantize(.q8_0)
        request.publish = QuantizeNowRequest.Publication(root: directory.path + "/variants", whittleVersion: "test")
        session.send(.quantizeNow(request))
        let event = try waitUntil("the quantization") {
            session.takeEvents().lazy.compactMap { if case .compressed(let event) = $0 { event } else { nil } }.first
        }
        let path = try #require(event.variant)
        #expect(path.hasSuffix("/variants/run-step2-q8_0-rtn") && FileIO.exists(path + "/" + LoadedModel.ggufName))
        let variant = try Variant.load(path)
        #expect(variant.base.path.hasSuffix("/run/" + Checkpoint.directoryName(step: 2)), "the base is the saved checkpoint")
        #expect(session.snapshot().unsavedSteps == 0)
        #expect(event.sentence.contains("published"))
    }
}
