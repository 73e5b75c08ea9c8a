// The workbench's host logic, independent of the terminal: feeds Actions to `update`, turns the
// Effects into commands for engine jobs, and once a frame turns the jobs' snapshots and events back
// into Actions. The jobs are the engine's — the TrainingSession, a RunLibrary for the dialogs' file
// work, an ExperimentSession, a GenerationSession — so this class starts no thread and touches no
// file itself, and `AppState` changes only through `update`. WhittleCurses wraps it with ncurses and
// signals; tests drive it with a MemoryTerminal.

import Foundation
import WhittleEngine

/// Why the frame loop ended.
public enum WorkbenchExit: Equatable, Sendable {
    /// The user quit (`q`, confirmed if needed).
    case quit
    /// A graceful signal (SIGINT, SIGTERM, SIGHUP) arrived.
    case signal(Int32)
}

/// Connects the pure UI to the engine's jobs.
public final class WorkbenchController {
    public private(set) var state: AppState
    /// The current run's session (replaced when another run is opened or started).
    public internal(set) var session: TrainingSession
    public internal(set) var metrics: SessionMetrics
    /// Lists, checks and resolves runs for the dialogs on its own thread (nil: the dialogs say they
    /// are unavailable).
    public let library: RunLibrary?
    /// Whether quitting saves a checkpoint (the quit dialog's "don't save" clears it).
    public private(set) var saveOnExit = true
    /// Set once an Effect asked to quit.
    public private(set) var quitRequested = false
    /// Chart summaries kept between frames.
    public let renderCache = RenderCache()
    /// Starts the Experiments screen's child runs (nil: `whittle` itself, via /proc/self/exe).
    public let experimentLauncher: (any ExperimentLauncher)?
    /// Where experiment queues write their runs and tables (a new directory per queue).
    public let experimentsRoot: String
    /// The current or last experiment queue.
    public internal(set) var experiments: ExperimentSession?
    /// The experiment snapshot version last turned into an action.
    var experimentsVersion = -1
    /// A generation asked for and waiting for its copy of the weights.
    var pendingGeneration: GenerateRequest?
    /// The generation running in the engine, if any.
    var generation: GenerationSession?
    /// A replacement the library is resolving, and whether the current run saves first.
    var pendingReplacement: (replacement: RunReplacement, saveCurrent: Bool)?
    /// The run that starts once the current session has stopped (and saved, if asked).
    var nextRun: (origin: TrainingSession.Origin, name: String, saved: Bool)?
    /// The Compare and Compress screens' file and evaluation work (started when first needed).
    var variantLibrary: VariantLibrary?
    /// The running (or last) compression pass.
    var pass: (any VariantPassSession)?
    var passVersion = -1
    /// The running (or last) sensitivity scan.
    var scan: SensitivityScanSession?
    var scanVersion = -1
    var variantLibraryVersion = -1
    /// Frames until the Compare screen next checks that its models still exist.
    var missingCheckCountdown = 0
    /// Where variants are made and comparisons exported.
    public let variantsRoot: String
    /// Recorded in the variant.json of variants made here.
    public let whittleVersion: String

    /// A controller over `session`; with `autoStart`, training starts as soon as the run is loaded.
    public init(session: TrainingSession, runName: String, state: AppState, autoStart: Bool = true,
                notice: String? = nil, launcher: RunLauncher? = nil,
                experimentLauncher: (any ExperimentLauncher)? = nil, experimentsRoot: String = "runs",
                variantsRoot: String = "variants", whittleVersion: String = "unknown") {
        self.session = session
        self.variantsRoot = variantsRoot
        self.whittleVersion = whittleVersion
        library = launcher.map { RunLibrary(launcher: $0) }
        self.experimentLauncher = experimentLauncher
        self.experimentsRoot = experimentsRoot
        self.state = state
        metrics = SessionMetrics(runName: runName)
        if autoStart { session.send(.run) }
        handle(.engineMessage(notice ?? "loading \(runName)..."))
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
            experiments?.cancel()
        case .startExperiments(let plan): startExperiments(plan)
        case .exportExperiments: experiments?.send(.export)
        case .cancelExperiments: experiments?.cancel()
        case .generate(let request):
            pendingGeneration = request
            session.send(.copyModel)
        case .discardUnsaved: saveOnExit = false
        case .listModels:
            guard let library else { return handle(.modelsListed([])) }
            library.send(.list)
        case .checkNewRun(let request):
            guard let library else { return handle(.newRunChecked(.invalid("starting runs is not available here"))) }
            library.send(.check(request))
        case .pruneNow(let request): session.send(.pruneNow(request))
        case .quantizeNow(var request):
            if request.publish != nil {
                request.publish = QuantizeNowRequest.Publication(root: variantsRoot, whittleVersion: whittleVersion)
            }
            session.send(.quantizeNow(request))
        case .listLibrary, .inspectModel, .compare, .checkModels, .exportComparison, .generateSideBySide, .quantize, .prune, .distil,
             .cancelPass, .scanSensitivity, .measureTensorErrors:
            performVariantEffect(effect)
        case .replaceRun(let replacement, let saveCurrent):
            guard let library else { return handle(.engineMessage("switching runs is not available here")) }
            pendingReplacement = (replacement, saveCurrent)
            library.send(.resolve(replacement))
        }
    }

    /// Brings the jobs' latest snapshots and events into the state; returns the metrics to draw.
    @discardableResult
    public func sync() -> TrainingMetricsSnapshot {
        startNextRunIfStopped()
        let snapshot = session.snapshot()
        if snapshot.state != state.runState {
            handle(.runStateChanged(snapshot.state))
            if snapshot.state == .idle || snapshot.state == .running, state.message?.hasPrefix("loading") == true {
                handle(.engineMessage("loaded: \(NumberFormat.count(snapshot.parameterCount)) parameters"))
            }
        }
        if let config = snapshot.config, config != state.runConfig {
            handle(.hyperparametersApplied(HyperparameterValues(config: config)))
            handle(.runConfigChanged(config, vocabularySize: snapshot.vocabularySize))
        }
        if let activity = snapshot.activity, activity != state.liveCompression.activity {
            handle(.compressionProgress(activity))
        }
        for event in session.takeEvents() { apply(event, snapshot) }
        if (snapshot.unsavedSteps > 0) != state.hasUnsavedProgress {
            handle(.unsavedProgressChanged(snapshot.unsavedSteps > 0))
        }
        if snapshot.directory != state.runDirectory { handle(.runDirectoryChanged(snapshot.directory)) }
        syncGeneration()
        syncExperiments()
        syncLibrary()
        syncVariants()
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
        case .compressed(let event): handle(.compressionFinished(event))
        case .compressionFailed(let message): handle(.compressionFailed(message))
        }
    }

    /// Syncs and draws one frame.
    public func frame(theme: Theme) -> Screen {
        render(state, sync(), theme, cache: renderCache)
    }

    /// Runs frames on `terminal` until quit or a signal: wait for input up to `frameMilliseconds`,
    /// apply every pending input, sync with the jobs, render, present.
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

    /// Ends the helper jobs (an experiment queue and its child, the run library) and waits for them;
    /// the training session is the caller's to stop (it may save first).
    public func stopJobs() {
        experiments?.stop()
        library?.stop()
        pass?.cancel()
        scan?.cancel()
        pass?.waitUntilEnded(timeoutSeconds: 10)
        scan?.waitUntilEnded(timeoutSeconds: 10)
        variantLibrary?.stop()
    }
}
