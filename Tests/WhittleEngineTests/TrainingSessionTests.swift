// TrainingSession: commands apply at step boundaries on the session's own thread, setting changes
// are validated and recorded, stop saves a checkpoint, and the published snapshot is complete.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite(.serialized) struct TrainingSessionTests {
    /// Generous bound for anything the tiny run does (a step takes about a millisecond).
    static let timeout = Deadline.generous

    /// Waits for the session's snapshot to satisfy `condition`; returns the snapshot that did.
    @discardableResult
    func wait(_ session: TrainingSession, _ what: String = "condition",
              until condition: (TrainingSession.Snapshot) -> Bool) throws -> TrainingSession.Snapshot {
        try waitUntil(what, timeout: Self.timeout, state: { "\(session.snapshot().state)" }) {
            let snapshot = session.snapshot()
            return condition(snapshot) ? snapshot : nil
        }
    }

    /// A round trip through the session thread: asks for a model copy and waits for it, so every
    /// command sent before has been handled. Returns the step the copy was taken at (other events
    /// taken meanwhile are dropped).
    func barrier(_ session: TrainingSession) throws -> Int {
        session.send(.copyModel)
        return try waitUntil("a model copy (a round trip through the session thread)", timeout: Self.timeout) {
            session.takeEvents().lazy.compactMap { if case .modelCopied(let copy) = $0 { copy.step } else { nil } }.first
        }
    }

    func makeSession(_ directory: TemporaryDirectory, maxIterations: Int = 1000,
                     edit: (inout TrainingConfig) -> Void = { _ in }) throws -> TrainingSession {
        var config = try TinyTraining.config(in: directory.path)
        config.maxIterations = maxIterations
        config.checkpointInterval = 0
        config.evalInterval = 100
        edit(&config)
        return TrainingSession(origin: .start(config: config, directory: directory.path + "/run"))
    }

    /// Copies requested while training runs are taken at step boundaries: each equals the weights
    /// of the checkpoint written after the same step (a checkpoint after every step), never a mix.
    @Test func testTrainingSession_modelCopyIsTakenAtAStepBoundary() throws {
        let directory = TemporaryDirectory()
        let session = try makeSession(directory, maxIterations: 40) { $0.checkpointInterval = 1 }
        defer { session.stop(saving: false) }
        session.send(.run)
        var copies: [TrainingSession.ModelCopy] = []
        func collected() -> Bool {
            let before = copies.count
            for case .modelCopied(let copy) in session.takeEvents() { copies.append(copy) }
            return copies.count > before
        }
        // One request at a time, each answered before the next, until the run ends.
        while session.snapshot().state != .finished {
            session.send(.copyModel)
            try waitUntil("a model copy while training", timeout: Self.timeout) { collected() }
        }
        session.send(.copyModel)
        try waitUntil("the copy after step 40", timeout: Self.timeout) { _ = collected(); return copies.last?.step == 40 }
        #expect(copies.count >= 2)
        #expect(copies.last?.step == 40)
        let run = directory.path + "/run"
        for copy in copies where copy.step > 0 {
            let saved = try ModelDirectory.load(run + "/" + Checkpoint.directoryName(step: copy.step))
            #expect(Array(copy.model.parameters.array) == Array(saved.model.parameters.array),
                    "copy at step \(copy.step) differs from its checkpoint")
            #expect(copy.tokenizer == saved.tokenizer)
        }
        let steps = Set(copies.map(\.step))
        #expect(steps.count >= 2, "copies taken at several steps while running: \(steps.sorted())")
    }

    @Test func testTrainingSession_modelCopyAfterAFailedLoadIsRefused() throws {
        let directory = TemporaryDirectory()
        let session = try makeSession(directory) { $0.datasetPath = directory.path + "/missing.txt" }
        defer { session.stop(saving: false) }
        try wait(session, "failed") { if case .failed = $0.state { true } else { false } }
        session.send(.copyModel)
        try waitUntil("the copy to be refused", timeout: Self.timeout) {
            session.takeEvents().contains { if case .modelCopyFailed = $0 { true } else { false } }
        }
    }

    @Test func testTrainingSession_cancelEndsTheRunWithoutSaving() throws {
        let directory = TemporaryDirectory()
        let session = try makeSession(directory)
        session.send(.run)
        try wait(session, "steps") { $0.step >= 3 }
        session.cancel()
        #expect(session.waitUntilEnded(timeoutSeconds: Self.timeout))
        let final = session.snapshot()
        #expect(final.state == .stopped && final.unsavedSteps > 0 && final.lastCheckpoint == nil)
        #expect(try Checkpoint.newest(in: directory.path + "/run") == nil, "nothing saved")
    }

    @Test func testTrainingSession_loadsThenWaitsIdle() throws {
        let directory = TemporaryDirectory()
        let session = try makeSession(directory)
        defer { session.stop(saving: false) }
        let ready = try wait(session, "idle") { $0.state == .idle }
        #expect(ready.step == 0)
        #expect(ready.config?.maxIterations == 1000)
        #expect(try barrier(session) == 0, "no step without a run command")
        #expect(session.snapshot().step == 0)
    }

    @Test func testTrainingSession_runTakesStepsAndPauseStops() throws {
        let directory = TemporaryDirectory()
        let session = try makeSession(directory)
        defer { session.stop(saving: false) }
        session.send(.run)
        let running = try wait(session, "5 steps") { $0.step >= 5 }
        #expect(running.state == .running)
        session.send(.pause)
        let paused = try wait(session, "paused") { $0.state == .paused }
        #expect(try barrier(session) == paused.step)
        let later = session.snapshot()
        #expect(later.step == paused.step, "no steps after pause")
        #expect(later.history.count == later.step)
        #expect(later.history.map(\.step) == Array(1...later.step))
        #expect(later.tokensSeen == later.step * 4 * 16)
        #expect(later.elapsedSeconds > 0)
        #expect(later.etaSeconds.map { $0 > 0 } == true)
    }

    @Test func testTrainingSession_stepNTakesExactlyN() throws {
        let directory = TemporaryDirectory()
        let session = try makeSession(directory)
        defer { session.stop(saving: false) }
        try wait(session, "idle") { $0.state == .idle }
        session.send(.step(3))
        let done = try wait(session, "paused after 3") { $0.state == .paused }
        #expect(done.step == 3)
        #expect(try barrier(session) == 3)
        #expect(session.snapshot().step == 3)
        session.send(.step(2))
        try wait(session, "5 steps") { $0.step == 5 && $0.state == .paused }
    }

    @Test func testTrainingSession_learningRateChangeAppliesAtBoundaryAndIsRecorded() throws {
        let directory = TemporaryDirectory()
        let session = try makeSession(directory) { $0.schedule = .constant }
        defer { session.stop(saving: false) }
        session.send(.step(2))
        try wait(session, "2 steps") { $0.step == 2 && $0.state == .paused }
        session.send(.set(key: "learning_rate", value: "3e-4"))
        session.send(.step(1))
        let after = try wait(session, "3 steps") { $0.step == 3 && $0.state == .paused }
        #expect(after.config?.learningRate == 3e-4)
        #expect(after.changes == [TrainingSession.SettingChange(step: 2, seconds: after.changes.first?.seconds ?? 0,
                                                                key: "learning_rate", old: "0.001", new: "0.0003")])
        #expect(after.history[1].learningRate == 1e-3, "step 2 ran before the change")
        #expect(after.history[2].learningRate == 3e-4, "step 3 ran after it")
        let events = session.takeEvents()
        #expect(events.contains { if case .settingApplied(let change) = $0 { change.key == "learning_rate" } else { false } })
        let log = try String(contentsOfFile: directory.path + "/run/changes.jsonl", encoding: .utf8)
        #expect(log.contains("\"key\":\"learning_rate\""))
    }

    @Test func testTrainingSession_optimizerSwitchIsRecordedWithItsStateAndLedger() throws {
        let directory = TemporaryDirectory()
        let session = try makeSession(directory)
        defer { session.stop(saving: false) }
        session.send(.step(2))
        let before = try wait(session, "2 steps") { $0.step == 2 && $0.state == .paused }
        #expect(before.memory?.optimizer == 2 * before.parameterCount * 4)
        session.send(.set(key: "optimizer", value: "lion"))
        session.send(.step(1))
        let after = try wait(session, "3 steps") { $0.step == 3 && $0.state == .paused }
        #expect(after.config?.optimizer == .lion)
        #expect(after.memory?.optimizer == before.parameterCount * 4, "Lion keeps one buffer")
        let change = try #require(after.changes.first)
        #expect(change.key == "optimizer" && change.old == "\"adamw\"" && change.new == "\"lion\"", "\(change)")
        #expect(change.note?.contains("fresh state") == true)
        let events = session.takeEvents()
        #expect(events.contains { if case .notice(let text) = $0 { text.contains("Lion starts from fresh state") } else { false } })
        let log = try String(contentsOfFile: directory.path + "/run/changes.jsonl", encoding: .utf8)
        #expect(log.contains("fresh state"))
    }

    @Test func testTrainingSession_invalidValuesAreRejectedNamingTheKey() throws {
        let directory = TemporaryDirectory()
        let session = try makeSession(directory)
        defer { session.stop(saving: false) }
        try wait(session, "idle") { $0.state == .idle }
        session.send(.set(key: "learning_rate", value: "-1"))
        session.send(.set(key: "learning_rate", value: "fast"))
        session.send(.set(key: "n_layer", value: "3"))
        session.send(.set(key: "no_such_key", value: "1"))
        session.send(.step(1))
        let after = try wait(session, "1 step") { $0.step == 1 && $0.state == .paused }
        let rejections = session.takeEvents().compactMap { event -> (String, String)? in
            if case .settingRejected(let key, let message) = event { return (key, message) }
            return nil
        }
        #expect(rejections.map(\.0) == ["learning_rate", "learning_rate", "n_layer", "no_such_key"])
        for (key, message) in rejections { #expect(message.contains(key), "\(message)") }
        #expect(rejections[0].1.contains("≥ 0"))
        #expect(after.changes.isEmpty)
        #expect(after.config?.learningRate == 1e-3)
    }

    @Test func testTrainingSession_stopSavesACheckpoint() throws {
        let directory = TemporaryDirectory()
        let session = try makeSession(directory)
        session.send(.step(4))
        try wait(session, "4 steps") { $0.step == 4 && $0.state == .paused }
        #expect(session.snapshot().unsavedSteps == 4)
        #expect(session.stop(saving: true, timeoutSeconds: Self.timeout))
        let final = session.snapshot()
        #expect(final.state == .stopped)
        #expect(final.unsavedSteps == 0)
        let newest = try Checkpoint.newest(in: directory.path + "/run")
        #expect(newest == directory.path + "/run/" + Checkpoint.directoryName(step: 4))
        let resumed = try TrainingRun.resume(directory: directory.path + "/run")
        #expect(resumed.trainer.step == 4)
    }

    @Test func testTrainingSession_saveCheckpointCommandReportsThePath() throws {
        let directory = TemporaryDirectory()
        let session = try makeSession(directory)
        defer { session.stop(saving: false) }
        session.send(.step(2))
        try wait(session, "2 steps") { $0.step == 2 && $0.state == .paused }
        session.send(.saveCheckpoint)
        let saved = try wait(session, "saved") { $0.lastCheckpoint != nil }
        #expect(saved.step == 2)
        #expect(saved.unsavedSteps == 0)
        #expect(session.takeEvents().contains(.checkpointSaved(path: directory.path + "/run/ckpt-000002", automatic: false)))
    }

    @Test func testTrainingSession_finishesAtMaxItersWithFinalCheckpoint() throws {
        let directory = TemporaryDirectory()
        let session = try makeSession(directory, maxIterations: 6)
        defer { session.stop(saving: false) }
        session.send(.run)
        let done = try wait(session, "finished") { $0.state == .finished }
        #expect(done.step == 6)
        #expect(done.unsavedSteps == 0)
        #expect(done.etaSeconds == nil)
        _ = session.takeEvents()
        session.send(.run)
        try waitUntil("a notice that the finished run cannot run", timeout: Self.timeout) {
            session.takeEvents().contains { if case .notice = $0 { true } else { false } }
        }
        #expect(session.snapshot().step == 6)
    }

    @Test func testTrainingSession_memoryLedgerFromLayoutAndArenas() throws {
        let directory = TemporaryDirectory()
        let session = try makeSession(directory) { $0.workers = 2 }
        defer { session.stop(saving: false) }
        let ready = try wait(session, "idle") { $0.state == .idle }
        let memory = try #require(ready.memory)
        let parameterBytes = ready.parameterCount * 4
        #expect(memory.weights == parameterBytes)
        #expect(memory.gradients == 2 * parameterBytes)
        #expect(memory.optimizer == 2 * parameterBytes)
        #expect(memory.activations > 0 && memory.workspace > 0)
        #expect(memory.residentBytes > 0 && memory.peakResidentBytes >= memory.residentBytes / 2)
        #expect(ready.settings.first { $0.key == "learning_rate" }?.value == .float(0.001))
    }

    @Test func testTrainingSession_failedLoadIsReported() throws {
        let directory = TemporaryDirectory()
        var config = try TinyTraining.config(in: directory.path)
        config.datasetPath = directory.path + "/missing.txt"
        let session = TrainingSession(origin: .start(config: config, directory: directory.path + "/run"))
        let failed = try wait(session, "failed") { if case .failed = $0.state { true } else { false } }
        if case .failed(let message) = failed.state { #expect(message.contains("missing.txt")) }
        #expect(session.stop(timeoutSeconds: Self.timeout))
    }
}
