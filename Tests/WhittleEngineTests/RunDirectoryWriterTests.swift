// A run directory under faults and concurrent use: a full disk during a log append or the final
// checkpoint (injected through FileIO's write seam, on this test's own paths only), a second
// writer refused with the holder's PID, a stale lock of a dead process taken over, default names
// unique within one second, and a run without a checkpoint restarted in place.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite(.serialized) struct RunDirectoryWriterTests {
    @Test func testStep_diskFullDuringALogAppendThrowsIOAndTheRunResumesExactly() throws {
        let directory = TemporaryDirectory()
        let config = try TinyTraining.config(in: directory.path)
        let straight = try TrainingRun.start(config: config, directory: directory.path + "/straight")
        let reference = try (0..<8).map { _ in try straight.step().loss }

        let runPath = directory.path + "/run"
        let run = try TrainingRun.start(config: config, directory: runPath)
        var losses = try (0..<4).map { _ in try run.step().loss }   // ckpt-000004
        FileIO.injectWriteFault(pathSuffix: runPath + "/" + TrainingRun.logName, code: ENOSPC, after: 1)
        defer { FileIO.injectWriteFault(pathSuffix: nil) }
        try run.step()                                              // step 5 is logged
        let error = #expect(throws: WhittleError.self) { try run.step() }
        #expect(error?.kind == .io)
        #expect(error?.message.contains("No space left on device") == true, "\(String(describing: error))")
        #expect(error?.hint.contains("--resume") == true)
        run.close()
        FileIO.injectWriteFault(pathSuffix: nil)

        let resumed = try TrainingRun.resume(directory: runPath)
        #expect(resumed.trainer.step == 4)
        losses += try (0..<4).map { _ in try resumed.step().loss }
        #expect(losses == reference)
        let log = try String(contentsOfFile: runPath + "/" + TrainingRun.logName, encoding: .utf8)
        #expect(log.split(separator: "\n").count == 8)
    }

    @Test func testSaveCheckpoint_aFailedFinalSaveLeavesNoSummaryAndTheRunResumable() throws {
        let directory = TemporaryDirectory()
        let config = try TinyTraining.config(in: directory.path)
        let runPath = directory.path + "/run"
        let run = try TrainingRun.start(config: config, directory: runPath)
        for _ in 0..<7 { try run.step() }
        FileIO.injectWriteFault(pathSuffix: Checkpoint.directoryName(step: 8) + ".tmp-\(getpid())/" + ModelDirectory.weightsName)
        defer { FileIO.injectWriteFault(pathSuffix: nil) }
        let error = #expect(throws: WhittleError.self) { try run.step() }
        #expect(error?.kind == .io)
        #expect(!FileManager.default.fileExists(atPath: runPath + "/" + RunSummary.fileName), "no summary of a step that was not saved")
        #expect(try Checkpoint.newest(in: runPath) == runPath + "/" + Checkpoint.directoryName(step: 4))
        run.close()
        FileIO.injectWriteFault(pathSuffix: nil)

        let resumed = try TrainingRun.resume(directory: runPath)
        while !resumed.trainer.isFinished { try resumed.step() }
        #expect(FileManager.default.fileExists(atPath: runPath + "/" + RunSummary.fileName))
        #expect(try Checkpoint.newest(in: runPath) == runPath + "/" + Checkpoint.directoryName(step: 8))
    }

    @Test func testRunLock_aSecondWriterIsRefusedWithTheHoldersPID() throws {
        let directory = TemporaryDirectory()
        let config = try TinyTraining.config(in: directory.path)
        let runPath = directory.path + "/run"
        let run = try TrainingRun.start(config: config, directory: runPath)
        for _ in 0..<4 { try run.step() }
        for attempt in [{ _ = try TrainingRun.resume(directory: runPath) },
                        { _ = try TrainingRun.start(config: config, directory: runPath) }] {
            let error = #expect(throws: WhittleError.self) { try attempt() }
            #expect(error?.kind == .busy)
            #expect(error?.message.contains("PID \(getpid())") == true, "\(String(describing: error))")
        }
        run.close()
        let resumed = try TrainingRun.resume(directory: runPath)
        #expect(resumed.trainer.step == 4)
    }

    @Test func testRunLock_aStaleLockOfADeadProcessIsTakenOver() throws {
        let directory = TemporaryDirectory()
        let config = try TinyTraining.config(in: directory.path)
        let runPath = directory.path + "/run"
        let run = try TrainingRun.start(config: config, directory: runPath)
        for _ in 0..<4 { try run.step() }
        run.close()
        // What a killed process leaves: the file with its PID, no flock held.
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        try "\(dead.processIdentifier)\n".write(toFile: runPath + "/" + RunLock.fileName, atomically: false, encoding: .utf8)
        let resumed = try TrainingRun.resume(directory: runPath)
        #expect(resumed.trainer.step == 4)
        #expect(RunLock.holder(of: runPath) == getpid())
    }

    @Test func testRunDirectory_defaultNamesAreUniqueWithinOneSecond() throws {
        let directory = TemporaryDirectory()
        let now = Date()
        let names = try (0..<3).map { _ in try RunDirectory.claim(parent: directory.path + "/runs", name: "tiny", now: now) }
        #expect(Set(names).count == 3, "\(names)")
        #expect(names.allSatisfy { FileIO.isDirectory($0) })
    }

    @Test func testResume_aRunWithoutACheckpointRestartsInPlaceFromStepZero() throws {
        let directory = TemporaryDirectory()
        let config = try TinyTraining.config(in: directory.path)
        let runPath = directory.path + "/run"
        let run = try TrainingRun.start(config: config, directory: runPath)
        for _ in 0..<3 { try run.step() }   // stopped before the first checkpoint (step 4)
        run.close()
        #expect(try Checkpoint.newest(in: runPath) == nil)
        let restarted = try TrainingRun.resume(directory: runPath)
        #expect(restarted.trainer.step == 0)
        #expect(restarted.notes.contains { $0.contains("restarted from step 0") })
        let log = try String(contentsOfFile: runPath + "/" + TrainingRun.logName, encoding: .utf8)
        #expect(log.isEmpty, "the abandoned steps are dropped from the log")
        while !restarted.trainer.isFinished { try restarted.step() }
        #expect(try Checkpoint.newest(in: runPath) == runPath + "/" + Checkpoint.directoryName(step: 8))
    }

    @Test func testResume_aChangedShapeIsNamedAndNothingToTrainSaysSo() throws {
        let directory = TemporaryDirectory()
        let config = try TinyTraining.config(in: directory.path)
        let runPath = directory.path + "/run"
        let run = try TrainingRun.start(config: config, directory: runPath)
        for _ in 0..<4 { try run.step() }
        run.close()
        let shape = #expect(throws: WhittleError.self) { _ = try TrainingRun.resume(directory: runPath, overrides: ["n_layer=3"]) }
        #expect(shape?.kind == .invalidConfig)
        #expect(shape?.message.contains("changes the model's shape") == true, "\(String(describing: shape))")
        let done = #expect(throws: WhittleError.self) { _ = try TrainingRun.resume(directory: runPath, overrides: ["max_iters=3"]) }
        #expect(done?.message.contains("nothing to train") == true, "\(String(describing: done))")
    }

    /// A full disk while recording a live change in changes.jsonl is a notice, not a crash; training goes on.
    @Test func testSession_aFailedChangeLogAppendIsANoticeAndTrainingGoesOn() throws {
        let directory = TemporaryDirectory()
        var config = try TinyTraining.config(in: directory.path)
        config.maxIterations = 1000
        config.checkpointInterval = 0
        let runPath = directory.path + "/run"
        FileIO.injectWriteFault(pathSuffix: runPath + "/changes.jsonl")
        defer { FileIO.injectWriteFault(pathSuffix: nil) }
        let session = TrainingSession(origin: .start(config: config, directory: runPath))
        defer { session.stop(saving: false) }
        try waitUntil("idle") { session.snapshot().state == .idle }
        session.send(.set(key: "learning_rate", value: "0.0005"))
        session.send(.step(2))
        try waitUntil("2 steps", state: { "\(session.snapshot().state)" }) { session.snapshot().step == 2 && session.snapshot().state == .paused }
        let notices = session.takeEvents().compactMap { event -> String? in
            if case .notice(let text) = event { return text }
            return nil
        }
        #expect(notices.contains { $0.contains("not recorded in changes.jsonl") && $0.contains("No space left") }, "\(notices)")
        #expect(session.snapshot().config?.learningRate == 0.0005)
    }
}
