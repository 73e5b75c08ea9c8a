// The controller's side of the helper jobs: starting an experiment queue and a generation, turning
// their snapshots and events into Actions, answering the dialogs from the RunLibrary's events, and
// replacing the run once the current session has stopped (so a run never resumes from a checkpoint
// still being written).

import Foundation
import WhittleEngine

extension WorkbenchController {
    // MARK: Experiments

    /// Starts an experiment queue in a new directory under `experimentsRoot` (the engine picks a
    /// fresh name if it exists and reports it).
    func startExperiments(_ plan: ExperimentPlan) {
        experiments?.stop()  // the previous queue has ended (update starts one at a time); end its thread
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let directory = experimentsRoot + "/experiments-" + formatter.string(from: Date())
        experiments = ExperimentSession(plan: plan, directory: directory,
                                        launcher: experimentLauncher ?? ProcessExperimentLauncher(), fresh: true)
        experimentsVersion = -1
    }

    /// Brings the queue's progress (when it changed) and its events into the state.
    func syncExperiments() {
        guard let experiments else { return }
        let snapshot = experiments.snapshot()
        if snapshot.version != experimentsVersion {
            experimentsVersion = snapshot.version
            if snapshot.state != .loading, state.experiments.directory != snapshot.directory {
                handle(.experimentsStarted(directory: snapshot.directory))
            }
            handle(.experimentsProgress(snapshot.runs, running: !snapshot.state.isTerminal))
        }
        for event in experiments.takeEvents() {
            switch event {
            case .exported(let path): handle(.engineMessage("exported \(path) (+ .csv, .json)"))
            case .exportFailed(let message): handle(.engineMessage("export failed: " + message))
            case .failed(let message): handle(.engineMessage("cannot start experiments: " + message))
            case .runStarted, .runEnded: break  // the snapshot has them
            }
        }
    }

    // MARK: Generation

    /// Starts generating `request` from `copy` in the engine.
    func startGeneration(_ request: GenerateRequest, _ copy: TrainingSession.ModelCopy) {
        let settings = SamplingSettings(temperature: Float(request.temperature), topK: request.topK, seed: request.seed)
        generation = GenerationSession(copy: copy, prompt: request.prompt, count: request.count, settings: settings)
        handle(.generationStarted(step: copy.step))
    }

    /// Moves streamed text and the result of the running generation into the state.
    func syncGeneration() {
        guard let job = generation else { return }
        var text = ""
        for event in job.takeEvents() {
            switch event {
            case .text(let more): text += more
            case .finished(let stats):
                if !text.isEmpty { handle(.generationOutput(text)) }
                text = ""
                handle(.generationFinished(GenerationSummary(
                    promptTokens: stats.promptTokens, generatedTokens: stats.generatedTokens,
                    prefillTokensPerSecond: stats.prefillTokensPerSecond,
                    decodeMillisecondsPerToken: stats.decodeMillisecondsPerToken)))
                generation = nil
            case .failed(let message):
                handle(.generationFailed(message))
                generation = nil
            }
        }
        if !text.isEmpty { handle(.generationOutput(text)) }
    }

    /// Waits until a running generation has ended (tests); false on timeout.
    public func waitForGeneration(timeoutSeconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            _ = sync()
            if !state.generate.status.isBusy { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return false
    }

    // MARK: Dialogs and replacing the run

    /// Answers the dialogs from the library's events.
    func syncLibrary() {
        guard let library else { return }
        for event in library.takeEvents() {
            switch event {
            case .listed(let entries):
                handle(.modelsListed(entries.map { entry in
                    ModelEntry(path: entry.path, detail: entry.step.map { "run, step \(NumberFormat.grouped($0))" } ?? "model")
                }))
            case .checked(_, .success(let estimate)):
                handle(.newRunChecked(NewRunCheck(estimate)))
            case .checked(_, .failure(let error)):
                handle(.newRunChecked(.invalid(error.message)))
            case .resolved(let replacement, let result):
                guard let pending = pendingReplacement, pending.replacement == replacement else { continue }
                pendingReplacement = nil
                switch result {
                case .success(let next): stopCurrentRun(then: next.origin, name: next.name, saving: pending.saveCurrent)
                case .failure(let error): handle(.engineMessage("cannot open: " + error.message))
                }
            }
        }
    }

    /// Asks the current session to stop (saving first if asked); the next run starts once it has.
    func stopCurrentRun(then origin: TrainingSession.Origin, name: String, saving: Bool) {
        session.send(.stop(saving: saving))
        nextRun = (origin, name, saving)
        pendingGeneration = nil
        handle(.engineMessage(saving ? "saving the current run..." : "stopping the current run..."))
    }

    /// Starts the queued run once the session it replaces has ended.
    func startNextRunIfStopped() {
        guard let next = nextRun, session.hasEnded else { return }
        nextRun = nil
        let saved = next.saved ? session.snapshot().lastCheckpoint : nil
        session = TrainingSession(origin: next.origin)
        metrics = SessionMetrics(runName: next.name)
        handle(.runReplaced)
        session.send(.run)
        let previous = saved.map { " (saved " + ($0.split(separator: "/").last.map(String.init) ?? $0) + ")" } ?? ""
        handle(.engineMessage("loading \(next.name)...\(previous)"))
    }
}
