// The workbench's host logic, independent of the terminal: feeds Actions to `update`, runs the
// Effects against a TrainingSession, pulls the session's snapshot and events back into the
// AppState once a frame, and renders. WhittleCurses wraps it with ncurses and signals; tests drive
// it with a MemoryTerminal.

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
    public let session: TrainingSession
    public private(set) var metrics: SessionMetrics
    /// Set once an Effect asked to quit.
    public private(set) var quitRequested = false
    private var lastSessionState: TrainingSession.State?
    private var lastConfig: TrainingConfig?

    /// A controller over `session`; with `autoStart`, training starts as soon as the run is loaded.
    public init(session: TrainingSession, runName: String, state: AppState, autoStart: Bool = true,
                notice: String? = nil) {
        self.session = session
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
        case .quit: quitRequested = true
        }
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
        }
        for event in session.takeEvents() { apply(event, snapshot) }
        if snapshot.config != nil { state.hasUnsavedProgress = snapshot.unsavedSteps > 0 }
        return metrics.update(from: snapshot)
    }

    private func apply(_ event: TrainingSession.Event, _ snapshot: TrainingSession.Snapshot) {
        switch event {
        case .settingApplied(let change):
            handle(.engineMessage("\(change.key) \(change.old) → \(change.new) from step \(change.step + 1)"))
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
        }
    }

    /// Syncs and draws one frame.
    public func frame(theme: Theme) -> Screen {
        render(state, sync(), theme)
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
        terminal.present(render(state, metrics.metrics, theme))
    }
}
