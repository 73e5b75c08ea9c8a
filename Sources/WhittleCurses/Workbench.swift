// The real workbench: a TrainingSession driven from the ncurses Train screen. The first frame is
// drawn before the run is loaded (the session loads on its own thread). Quitting, SIGINT, SIGTERM
// and SIGHUP end the helper jobs (an experiment queue's child is terminated), stop the session at
// the next step boundary, which saves a checkpoint, then restore the terminal; a second signal while
// saving abandons the save (the previous checkpoint stays valid).

import Foundation
import WhittleEngine
import WhittleUI

/// What the workbench opens and how it looks.
public struct WorkbenchOptions: Sendable {
    public var origin: TrainingSession.Origin
    /// Shown in the header.
    public var runName: String
    /// Shown in the status bar at start instead of "loading ..." (e.g. which config was chosen).
    public var notice: String?
    public var themeName: String
    public var curses: CursesOptions
    /// Start training as soon as the run is loaded.
    public var autoStart = true
    /// Milliseconds a frame waits for input: the idle redraw interval. Keys are handled and drawn at once whatever it is; 100 ms (10 fps) keeps
    /// the UI's share of the two cores small while training (see docs/PERFORMANCE.md).
    public var frameMilliseconds = 100
    /// Lists, checks and starts runs for the open-model and new-run dialogs.
    public var launcher: RunLauncher?
    /// Recorded in the variant.json of variants the Compress screen makes.
    public var whittleVersion = "unknown"

    public init(origin: TrainingSession.Origin, runName: String, notice: String? = nil, themeName: String = "default",
                curses: CursesOptions) {
        self.origin = origin
        self.runName = runName
        self.notice = notice
        self.themeName = themeName
        self.curses = curses
    }
}

/// How the workbench ended, for the caller's message on stderr and exit status.
public struct WorkbenchResult: Sendable {
    /// 0 after quitting; 128 + the signal number after SIGINT, SIGTERM or SIGHUP.
    public var status: Int32
    /// The run's newest checkpoint when the workbench ended, if any.
    public var checkpoint: String?
    /// The run directory.
    public var directory: String
    /// Steps completed.
    public var step: Int
    /// The failure message if the run failed.
    public var failure: String?
    /// A second signal abandoned the final save.
    public var abandonedSave: Bool
}

/// Runs the workbench until the user quits or a signal arrives; the terminal is restored on return.
public func runWorkbench(_ options: WorkbenchOptions) -> WorkbenchResult {
    let firstSession = TrainingSession(origin: options.origin)
    let catalog = ThemeCatalog.load(
        from: ThemeCatalog.searchDirectories(
            environment: options.curses.environment, workingDirectory: FileManager.default.currentDirectoryPath,
            executableDirectory: Bundle.main.executableURL?.deletingLastPathComponent().path))
    let terminal = CursesTerminal(options: options.curses)
    var cache: (name: String, theme: Theme)?
    // Test seam for the crash path (Tests/e2e/tui.sh): WHITTLE_TEST_CRASH=N traps in the N-th frame.
    var framesUntilCrash = Int(options.curses.environment["WHITTLE_TEST_CRASH"] ?? "") ?? -1
    let themeFor = { (name: String) -> Theme in
        if framesUntilCrash > 0 {
            framesUntilCrash -= 1
            if framesUntilCrash == 0 { fatalError("injected crash in the workbench loop (WHITTLE_TEST_CRASH)") }
        }
        if let cache, cache.name == name { return cache.theme }
        let theme = terminal.colorMode == .none ? .monochrome : catalog.theme(named: name) ?? .builtinDefault
        cache = (name, theme)
        return theme
    }
    let size = terminal.size
    let names = catalog.names.isEmpty ? ["default"] : catalog.names
    let state = AppState(
        width: size.width, height: size.height, themeName: names.contains(options.themeName) ? options.themeName : names[0],
        themeNames: names, useASCII: !terminal.supportsUnicode)
    let controller = WorkbenchController(session: firstSession, runName: options.runName, state: state,
                                         autoStart: options.autoStart, notice: options.notice,
                                         launcher: options.launcher, whittleVersion: options.whittleVersion)
    let exit = controller.run(on: terminal, frameMilliseconds: options.frameMilliseconds, theme: themeFor,
                              pendingSignal: TerminalSignals.takePending)
    controller.showMessage(controller.saveOnExit ? "stopping: saving a checkpoint... (Ctrl-C again to abandon)" : "stopping without saving...", on: terminal,
                           theme: themeFor(controller.state.themeName))
    controller.stopJobs()
    let session = controller.session
    session.send(.stop(saving: controller.saveOnExit))
    var abandoned = false
    while !session.waitUntilEnded(timeoutSeconds: 0.05) {
        if TerminalSignals.takePending() != nil {
            abandoned = true
            break
        }
    }
    terminal.stop()
    let final = session.snapshot()
    var failure: String?
    if case .failed(let message) = final.state { failure = message }
    let status: Int32 = switch exit {
    case .quit: 0
    case .signal(let number): 128 + number
    }
    return WorkbenchResult(status: status, checkpoint: final.lastCheckpoint, directory: final.directory,
                           step: final.step, failure: failure, abandonedSave: abandoned)
}
