// A self-contained demo of the workbench: the real update/render loop on a CursesTerminal, fed by
// a synthetic DemoRun instead of the engine. It doubles as the template for the real main loop:
// wait for input (short timeout), update, run effects, advance the run, render, present.

import Foundation
import WhittleUI

/// Runs the Train screen with synthetic data until `q` (or a signal); returns the exit status
/// (0, or 128 + the signal number after SIGINT/SIGTERM/SIGHUP, with the terminal already restored).
public func runDemo(options: CursesOptions, totalSteps: Int = 5000) -> Int32 {
    let catalog = ThemeCatalog.load(
        from: ThemeCatalog.searchDirectories(
            environment: options.environment, workingDirectory: FileManager.default.currentDirectoryPath,
            executableDirectory: Bundle.main.executableURL?.deletingLastPathComponent().path))
    let terminal = CursesTerminal(options: options)
    let themeFor = { (name: String) -> Theme in
        terminal.colorMode == .none ? .monochrome : catalog.theme(named: name) ?? .builtinDefault
    }
    let size = terminal.size
    var state = AppState(
        width: size.width, height: size.height, themeName: "default", themeNames: catalog.names,
        useASCII: !terminal.supportsUnicode)
    var theme = themeFor(state.themeName)
    var run = DemoRun(totalSteps: totalSteps)
    var stepsOwed = 0
    let cache = RenderCache()
    var exitSignal: Int32?

    frames: while true {
        if let signal = TerminalSignals.takePending() {
            exitSignal = signal
            break
        }
        let effects = terminal.nextAction(timeoutMilliseconds: 33).map { update(&state, $0) } ?? update(&state, .tick)
        for effect in effects {
            switch effect {
            case .startTraining, .resume: run.setRunState(.running)
            case .pause: run.setRunState(.paused)
            case .step(let count):
                stepsOwed = count
                run.setRunState(.paused)
            case .setHyperparameter(let id, let value): run.apply(id, value)
            case .saveCheckpoint: _ = update(&state, .checkpointSaved)
            case .cycleTheme(let name): theme = themeFor(name)
            case .quit: break frames
            case .generate: _ = update(&state, .generationFailed("the demo has no model to sample from"))
            case .listModels: _ = update(&state, .modelsListed([]))
            case .checkNewRun: _ = update(&state, .newRunChecked(.invalid("the demo cannot start runs")))
            case .replaceRun: _ = update(&state, .engineMessage("the demo cannot switch runs"))
            case .discardUnsaved: break
            }
        }
        if run.snapshot.runState == .running {
            run.advance(steps: 2)
        } else if stepsOwed > 0 {
            run.advance(steps: 1)
            stepsOwed -= 1
        }
        if run.snapshot.runState != state.runState, run.snapshot.runState != .idle {
            _ = update(&state, .runStateChanged(run.snapshot.runState))
        }
        terminal.present(render(state, run.snapshot, theme, cache: cache))
    }
    terminal.stop()
    return exitSignal.map { 128 + $0 } ?? 0
}
