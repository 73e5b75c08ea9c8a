// The workbench's host logic, independent of the terminal: feeds Actions to `update`, runs the
// Effects against a TrainingSession, pulls the session's snapshot and events back into the
// AppState once a frame, and renders. WhittleCurses wraps it with ncurses and signals; tests drive
// it with a MemoryTerminal.

import Foundation
import Synchronization
import WhittleEngine

/// Why the frame loop ended.
public enum WorkbenchExit: Equatable, Sendable {
    /// The user quit (`q`, confirmed if needed).
    case quit
    /// A graceful signal (SIGINT, SIGTERM, SIGHUP) arrived.
    case signal(Int32)
}

/// Connects the pure UI to a TrainingSession.
public final class WorkbenchController {
    public private(set) var state: AppState
    public private(set) var session: TrainingSession
    public private(set) var metrics: SessionMetrics
    /// Lists, checks and launches runs for the dialogs (nil: the dialogs say they are unavailable).
    public let launcher: RunLauncher?
    /// Whether quitting saves a checkpoint (the quit dialog's "don't save" clears it).
    public private(set) var saveOnExit = true
    /// Vocabulary sizes of dataset files already read by the new-run dialog.
    private var vocabularies: [String: Int] = [:]
    /// Set once an Effect asked to quit.
    public private(set) var quitRequested = false
    private var lastSessionState: TrainingSession.State?
    private var lastConfig: TrainingConfig?
    /// Chart summaries kept between frames.
    public let renderCache = RenderCache()
    /// A generation asked for and waiting for its copy of the weights.
    private var pendingGeneration: GenerateRequest?
    /// The generation running on its own thread, if any.
    private var generation: GenerationJob?
    /// Starts the Experiments screen's child runs (nil: `whittle` itself, via /proc/self/exe).
    public let experimentLauncher: (any ExperimentLauncher)?
    /// Where experiment queues write their runs and tables (a new directory per queue).
    public let experimentsRoot: String
    /// The current or last experiment queue.
    public private(set) var experimentRunner: ExperimentRunner?
    private var lastExperimentRuns: [ExperimentRun] = []
    private var experimentsRunning = false

    /// A controller over `session`; with `autoStart`, training starts as soon as the run is loaded.
    public init(session: TrainingSession, runName: String, state: AppState, autoStart: Bool = true,
                notice: String? = nil, launcher: RunLauncher? = nil,
                experimentLauncher: (any ExperimentLauncher)? = nil, experimentsRoot: String = "runs") {
        self.session = session
        self.launcher = launcher
        self.experimentLauncher = experimentLauncher
        self.experimentsRoot = experimentsRoot
        self.state = state
        metrics = SessionMetrics(runName: runName)
        if autoStart {
            session.send(.run)
            self.state.runState = .running
        }
        _ = update(&self.state, .engineMessage(notice ?? "loading \(runName)..."))
    }

    /// Applies one action and runs the effects it asks for.
    public func handle(_ action: Action) {
        for effect in update(&state, action) { perform(effect) }
    }

    private func perform(_ effect: Effect) {
        switch effect {
        case .startTraining, .resume: session.send(.run)
        case .pause: session.send(.pause)
        case .step(let count): session.send(.step(count))
        case .setHyperparameter(let id, let value): session.send(.set(key: id.rawValue, value: value.editText))
        case .saveCheckpoint: session.send(.saveCheckpoint)
        case .cycleTheme: break  // the host looks the theme up by `state.themeName`
        case .quit:
            quitRequested = true
            stopExperiments()
        case .startExperiments(let plan): startExperiments(plan)
        case .exportExperiments:
            guard let runner = experimentRunner else { return }
            do {
                let path = try runner.export()
                handle(.engineMessage("exported \(path) (+ .csv, .json)"))
            } catch {
                handle(.engineMessage("export failed: " + ((error as? WhittleError)?.message ?? "\(error)")))
            }
        case .cancelExperiments: experimentRunner?.cancel()
        case .generate(let request):
            pendingGeneration = request
            session.send(.copyModel)
        case .discardUnsaved: saveOnExit = false
        case .listModels: handle(.modelsListed(launcher?.listModels() ?? []))
        case .checkNewRun(let request):
            guard let launcher else { return handle(.newRunChecked(.invalid("starting runs is not available here"))) }
            let check = launcher.check(request) { path in
                if let known = vocabularies[path] { return known }
                let size = try RunLauncher.vocabularySize(ofFile: path)
                vocabularies[path] = size
                return size
            }
            handle(.newRunChecked(check))
        case .replaceRun(let replacement, let saveCurrent): replaceRun(replacement, saveCurrent: saveCurrent)
        }
    }

    /// Starts an experiment queue in a new directory under `experimentsRoot`.
    private func startExperiments(_ plan: ExperimentPlan) {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        var directory = experimentsRoot + "/experiments-" + formatter.string(from: Date())
        var suffix = 2
        while FileManager.default.fileExists(atPath: directory) {
            directory = experimentsRoot + "/experiments-" + formatter.string(from: Date()) + "-\(suffix)"
            suffix += 1
        }
        let runner = ExperimentRunner(plan: plan, directory: directory,
                                      launcher: experimentLauncher ?? ProcessExperimentLauncher())
        do {
            try runner.start()
        } catch {
            handle(.experimentsProgress([], running: false))
            return handle(.engineMessage("cannot start experiments: " + ((error as? WhittleError)?.message ?? "\(error)")))
        }
        experimentRunner = runner
        experimentsRunning = true
        lastExperimentRuns = []
        handle(.experimentsStarted(directory: directory))
    }

    /// Cancels a running experiment queue and waits briefly for its child to end (quit and signals).
    public func stopExperiments() {
        guard let runner = experimentRunner else { return }
        runner.cancel()
        runner.waitUntilDone(timeoutSeconds: 3)
    }

    /// Brings the experiment queue's progress into the state (when it changed).
    private func syncExperiments() {
        guard let runner = experimentRunner, experimentsRunning || lastExperimentRuns.isEmpty else { return }
        let (runs, running) = runner.poll()
        guard runs != lastExperimentRuns || running != experimentsRunning else { return }
        lastExperimentRuns = runs
        experimentsRunning = running
        handle(.experimentsProgress(runs, running: running))
    }

    /// Stops the current session (saving first if asked) and starts one for `replacement`.
    private func replaceRun(_ replacement: RunReplacement, saveCurrent: Bool) {
        guard let launcher else { return handle(.engineMessage("switching runs is not available here")) }
        let origin: TrainingSession.Origin, name: String
        do {
            (origin, name) = try launcher.origin(for: replacement)
        } catch {
            return handle(.engineMessage("cannot open: " + ((error as? WhittleError)?.message ?? "\(error)")))
        }
        session.stop(saving: saveCurrent)
        let saved = session.snapshot().lastCheckpoint
        session = TrainingSession(origin: origin)
        metrics = SessionMetrics(runName: name)
        lastSessionState = nil
        lastConfig = nil
        pendingGeneration = nil
        handle(.runReplaced)
        session.send(.run)
        state.runState = .running
        let previous = saveCurrent ? saved.map { " (saved " + ($0.split(separator: "/").last.map(String.init) ?? $0) + ")" } ?? "" : ""
        handle(.engineMessage("loading \(name)...\(previous)"))
    }

    /// Starts generating `request` from `copy` on a background thread.
    private func startGeneration(_ request: GenerateRequest, _ copy: TrainingSession.ModelCopy) {
        let prompt: [Int32]
        do {
            prompt = try copy.tokenizer.encode(request.prompt)
        } catch {
            let text = (error as? WhittleError)?.message ?? String(describing: error)
            handle(.generationFailed(text))
            return
        }
        handle(.generationStarted(step: copy.step))
        let job = GenerationJob()
        generation = job
        let settings = SamplingSettings(temperature: Float(request.temperature), topK: request.topK, seed: request.seed)
        let count = request.count
        let thread = Thread {
            do {
                let (_, stats) = try Generator.generate(model: copy.model, prompt: prompt, count: count,
                                                        settings: settings) { token in
                    let text = copy.tokenizer.decode([token])
                    job.shared.withLock { $0.text += text }
                }
                let summary = GenerationSummary(
                    promptTokens: stats.promptTokens, generatedTokens: stats.generatedTokens,
                    prefillTokensPerSecond: stats.prefillTokensPerSecond,
                    decodeMillisecondsPerToken: stats.decodeMillisecondsPerToken)
                job.shared.withLock { $0.result = .success(summary) }
            } catch {
                let text = (error as? WhittleError)?.message ?? String(describing: error)
                job.shared.withLock { $0.result = .failure(FormError(message: text)) }
            }
        }
        thread.name = "whittle.generate"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Moves streamed text and the result of the running generation into the state.
    private func drainGeneration() {
        guard let job = generation else { return }
        let (text, result) = job.shared.withLock { shared in
            defer { shared.text = "" }
            return (shared.text, shared.result)
        }
        if !text.isEmpty { handle(.generationOutput(text)) }
        switch result {
        case .success(let summary)?:
            handle(.generationFinished(summary))
            generation = nil
        case .failure(let error)?:
            handle(.generationFailed(error.message))
            generation = nil
        case nil: break
        }
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

    /// Brings the session's latest snapshot and events into the state; returns the metrics to draw.
    @discardableResult
    public func sync() -> TrainingMetricsSnapshot {
        let snapshot = session.snapshot()
        if snapshot.state != lastSessionState {
            lastSessionState = snapshot.state
            let runState = SessionMetrics.runState(snapshot.state)
            if snapshot.state != .loading, runState != state.runState { handle(.runStateChanged(runState)) }
            if snapshot.state == .idle || snapshot.state == .running, state.message?.hasPrefix("loading") == true {
                handle(.engineMessage("loaded: \(NumberFormat.count(snapshot.parameterCount)) parameters"))
            }
        }
        if let config = snapshot.config, config != lastConfig {
            lastConfig = config
            handle(.hyperparametersApplied(HyperparameterValues(config: config)))
            handle(.runConfigChanged(config, vocabularySize: snapshot.vocabularySize))
        }
        for event in session.takeEvents() { apply(event, snapshot) }
        drainGeneration()
        syncExperiments()
        if snapshot.config != nil { state.hasUnsavedProgress = snapshot.unsavedSteps > 0 }
        return metrics.update(from: snapshot)
    }

    private func apply(_ event: TrainingSession.Event, _ snapshot: TrainingSession.Snapshot) {
        switch event {
        case .settingApplied(let change):
            var message = "\(change.key) \(change.old) → \(change.new) from step \(change.step + 1)"
            // Say how a 16-bit run multiplies (and when it falls back to widening to fp32).
            if change.key == "precision", let precision = Precision(rawValue: change.new.trimmingCharacters(in: ["\""])),
               precision.isHalf {
                message += ": " + HalfMatmul.pathDescription(precision)
            }
            handle(.engineMessage(message))
        case .settingRejected(_, let message):
            handle(.hyperparameterRejected(message))
            if let config = snapshot.config { handle(.hyperparametersApplied(HyperparameterValues(config: config))) }
        case .checkpointSaved(let path, let automatic):
            if automatic {
                handle(.engineMessage("checkpoint " + (path.split(separator: "/").last.map(String.init) ?? path)))
            } else {
                handle(.checkpointSaved)
            }
        case .failed(let message): handle(.engineMessage("training failed: " + message))
        case .notice(let message): handle(.engineMessage(message))
        case .modelCopied(let copy):
            guard let request = pendingGeneration else { return }
            pendingGeneration = nil
            startGeneration(request, copy)
        case .modelCopyFailed(let message):
            guard pendingGeneration != nil else { return }
            pendingGeneration = nil
            handle(.generationFailed(message))
        }
    }

    /// Syncs and draws one frame.
    public func frame(theme: Theme) -> Screen {
        render(state, sync(), theme, cache: renderCache)
    }

    /// Runs frames on `terminal` until quit or a signal: wait for input up to `frameMilliseconds`,
    /// apply every pending input, sync with the session, render, present.
    public func run(on terminal: some Terminal, frameMilliseconds: Int = 50, theme: (String) -> Theme,
                    pendingSignal: () -> Int32?) -> WorkbenchExit {
        quitRequested = false
        terminal.present(frame(theme: theme(state.themeName)))
        while true {
            if let signal = pendingSignal() { return .signal(signal) }
            if let action = terminal.nextAction(timeoutMilliseconds: frameMilliseconds) {
                handle(action)
                while !quitRequested, let more = terminal.nextAction(timeoutMilliseconds: 0) { handle(more) }
            } else {
                handle(.tick)
            }
            if quitRequested { return .quit }
            terminal.present(frame(theme: theme(state.themeName)))
        }
    }

    /// Shows `text` in the status bar (e.g. "saving checkpoint..." while stopping) and draws a frame.
    public func showMessage(_ text: String, on terminal: some Terminal, theme: Theme) {
        handle(.engineMessage(text))
        terminal.present(render(state, metrics.metrics, theme, cache: renderCache))
    }
}

/// Text a generation thread has produced and not yet shown, and its result once it ends.
final class GenerationJob: Sendable {
    struct Shared {
        var text = ""
        var result: Result<GenerationSummary, FormError>?
    }
    let shared = Mutex(Shared())
}
