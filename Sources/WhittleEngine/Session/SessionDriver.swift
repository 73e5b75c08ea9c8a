// The loop on a TrainingSession's thread once its run is loaded: apply queued commands at the step
// boundary, take a step when running, publish. Only this thread touches the TrainingRun. `mode` is
// what the user asked for; the published `state` (derived from it, the run and a failure) is the
// only run state anyone else reads.

import Dispatch
import Foundation

/// Runs one loaded `TrainingRun` for a `TrainingSession`. Used only on the session's thread.
final class SessionDriver {
    enum Mode: Equatable {
        case idle, running, paused
        /// Stepping with this many steps left, then paused.
        case stepping(Int)
    }

    let session: TrainingSession.Job
    let run: TrainingRun
    var mode = Mode.idle
    var failure: String?
    var lastSavedStep: Int
    var lastCheckpoint: String?
    var elapsedSeconds: Double
    /// Wall seconds of recent steps, for the ETA.
    var recentSeconds: [Double] = []
    var changes: [TrainingSession.SettingChange] = []
    var compressions: [CompressionEvent] = []
    /// Seconds of the last RSS refresh while idle.
    var lastIdleRefresh = 0.0

    init(job: TrainingSession.Job, run: TrainingRun) {
        session = job
        self.run = run
        lastSavedStep = run.trainer.step
        elapsedSeconds = run.trainer.history.reduce(0) { $0 + $1.milliseconds } / 1000
        // A resumed run's earlier prunes and quantizations (the log keeps those up to its checkpoint) stay marked.
        compressions = (try? TrainingRun.compressionEvents(in: run.directory)) ?? []
    }

    var trainer: Trainer { run.trainer }

    var state: TrainingSession.State {
        if let failure { return .failed(failure) }
        if trainer.isFinished { return .finished }
        switch mode {
        case .idle: return .idle
        case .running, .stepping: return .running
        case .paused: return .paused
        }
    }

    func loop() {
        var first = true
        while true {
            let busy = failure == nil && !trainer.isFinished && mode != .idle && mode != .paused
            // Commands queued while loading apply before the first publication (no idle flicker).
            let commands = session.takeCommands(waitingSeconds: busy || first ? 0 : 0.1)
            if first {
                if commands.isEmpty { publishAll() }
                first = false
            }
            if session.isCancelled {
                stop(saving: false)
                return
            }
            for command in commands {
                if case .stop(let saving) = command {
                    stop(saving: saving)
                    return
                }
                apply(command)
            }
            if failure == nil && !trainer.isFinished && mode != .idle && mode != .paused {
                takeStep()
            } else {
                refreshMemoryWhileIdle()
            }
        }
    }

    // MARK: Commands

    func apply(_ command: TrainingSession.Command) {
        switch command {
        case .run:
            if let failure { return session.report(.notice("the run failed: \(failure)")) }
            if trainer.isFinished { return session.report(.notice("the run is finished (max_iters = \(trainer.config.maxIterations))")) }
            mode = .running
        case .pause:
            if mode != .idle || trainer.step > 0 { mode = .paused }
        case .step(let count):
            if trainer.isFinished { return session.report(.notice("the run is finished")) }
            if count > 0 { mode = .stepping(count) }
        case .set(let key, let value):
            setValue(value, forKey: key)
        case .saveCheckpoint:
            save(automatic: false)
        case .copyModel:
            copyModel()
            return
        case .pruneNow, .quantizeNow:
            compress(command)
        case .stop:
            break
        }
        publishAll()
    }

    /// Copies the weights; runs between steps on this thread, so no step is writing them.
    func copyModel() {
        do {
            let copy = try GPTModel(config: trainer.model.config)
            copy.parameters.copy(from: trainer.model.parameters)
            session.report(.modelCopied(TrainingSession.ModelCopy(model: copy, tokenizer: trainer.tokenizer,
                                                                  step: trainer.step)))
        } catch {
            session.report(.modelCopyFailed(TrainingSession.describe(error)))
        }
    }

    func setValue(_ text: String, forKey name: String) {
        do {
            let old = trainer.config
            let candidate = try old.setting(name, to: text, source: TrainingSession.editSource)
            // A live edit (workers, precision, checkpointing...) is held to the memory budget before it reallocates.
            try candidate.checkBudget(model: trainer.model.config, fromStep: trainer.step, confirmedLong: true)
            let note = try trainer.update { $0 = candidate }
            let before = try old.value(forKey: name), after = try trainer.config.value(forKey: name)
            guard before != after else { return }
            let change = TrainingSession.SettingChange(step: trainer.step, seconds: elapsedSeconds, key: name,
                                                       old: before.description, new: after.description, note: note)
            changes.append(change)
            appendToChangeLog(change)
            session.report(.settingApplied(change))
            if let note { session.report(.notice(note)) }
        } catch {
            var message = TrainingSession.describe(error)
            if !message.contains(name) { message = "\(name): \(message)" }
            session.report(.settingRejected(key: name, message: message))
        }
    }

    /// Appends `change` to `changes.jsonl` in the run directory. Best effort: a full disk must not stop
    /// training, so a failure is a notice (FileHandle.write would trap on it; FileIO throws).
    func appendToChangeLog(_ change: TrainingSession.SettingChange) {
        let path = run.directory + "/changes.jsonl"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard var line = try? encoder.encode(change) else { return }
        line.append(0x0A)
        do {
            try FileIO.append([UInt8](line), to: path)
        } catch {
            session.report(.notice("the change was applied but not recorded in changes.jsonl: \(TrainingSession.describe(error))"))
        }
    }

    func save(automatic: Bool) {
        do {
            let path = try run.saveCheckpoint()
            lastSavedStep = trainer.step
            lastCheckpoint = path
            session.report(.checkpointSaved(path: path, automatic: automatic))
        } catch {
            let message = "saving a checkpoint failed: " + TrainingSession.describe(error)
            session.report(.failed(message))
        }
    }

    func stop(saving: Bool) {
        if saving && trainer.step != lastSavedStep && trainer.step > 0 { save(automatic: false) }
        run.close()   // the lock goes before anyone hears "stopped": another process may take the run over
        mode = .paused
        publishAll()
        // A failed run keeps saying why; anything else has now stopped.
        if failure == nil { session.publish { $0.state = .stopped } }
    }

    // MARK: Steps

    func takeStep() {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let record = try run.step()
            if let warning = record.warning { session.report(.notice(warning)) }
            let interval = trainer.config.checkpointInterval
            if (interval > 0 && record.step % interval == 0) || trainer.isFinished {
                lastSavedStep = record.step
                lastCheckpoint = run.directory + "/" + Checkpoint.directoryName(step: record.step)
                session.report(.checkpointSaved(path: lastCheckpoint!, automatic: true))
            }
        } catch let error as WhittleError where error.kind == .numeric {
            // The weights were not updated: pause so the user can lower the learning rate and go on.
            mode = .paused
            session.report(.notice("paused: " + error.message + " — " + error.hint))
        } catch {
            failure = TrainingSession.describe(error)
            session.report(.failed(failure!))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        elapsedSeconds += seconds
        recentSeconds.append(seconds)
        if recentSeconds.count > TrainingSession.etaWindow { recentSeconds.removeFirst() }
        if case .stepping(let left) = mode { mode = left > 1 ? .stepping(left - 1) : .paused }
        publishAll()
    }

    func refreshMemoryWhileIdle() {
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        guard now - lastIdleRefresh > 0.5 else { return }
        lastIdleRefresh = now
        let resident = ProcessMemory.currentResidentBytes(), peak = max(ProcessMemory.peakResidentBytes(), resident)
        session.publish {
            $0.memory?.residentBytes = resident
            $0.memory?.peakResidentBytes = peak
        }
    }

    var etaSeconds: Double? {
        guard !recentSeconds.isEmpty, !trainer.isFinished else { return nil }
        let pace = recentSeconds.reduce(0, +) / Double(recentSeconds.count)
        return pace * Double(trainer.config.maxIterations - trainer.step)
    }

    /// Publishes everything (appending to the shared history; the copy a reader holds stays valid).
    func publishAll() {
        let history = trainer.history
        let state = self.state
        let ledger = TrainingSession.ledger(of: trainer)
        let eta = etaSeconds
        session.publish { snapshot in
            snapshot.state = state
            if snapshot.history.count < history.count {
                snapshot.tokensSeen += history[snapshot.history.count...].reduce(0) { $0 + $1.tokens }
                snapshot.history.append(contentsOf: history[snapshot.history.count...])
            } else if snapshot.history.count > history.count {
                snapshot.history = history
                snapshot.tokensSeen = history.reduce(0) { $0 + $1.tokens }
            }
            snapshot.step = trainer.step
            snapshot.totalSteps = trainer.config.maxIterations
            snapshot.config = trainer.config
            snapshot.parameterCount = trainer.model.parameterCount
            snapshot.vocabularySize = trainer.tokenizer.vocabularySize
            snapshot.memory = ledger
            snapshot.elapsedSeconds = elapsedSeconds
            snapshot.etaSeconds = eta
            snapshot.changes = changes
            snapshot.compressions = compressions
            snapshot.unsavedSteps = trainer.step - lastSavedStep
            snapshot.lastCheckpoint = lastCheckpoint
        }
    }
}
