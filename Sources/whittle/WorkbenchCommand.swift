// `whittle` (or `whittle ui`): opens the full-screen workbench on a training run. Settings are
// checked before the terminal is taken over, so mistakes print as ordinary errors; the run itself
// is loaded on the training thread while the first frame is already on screen.

import ArgumentParser
import Foundation
import WhittleCurses
import WhittleEngine
import WhittleUI

struct WorkbenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Open the workbench: train a model live in the terminal (the default command).",
        discussion: """
        Examples:
          whittle
          whittle --config configs/baby-gpt-cpu.toml --out runs/baby
          whittle ui --resume runs/baby --theme light

        Without --config, --model or --resume a new run starts with the settings of \(defaultConfig), continuing from the weights of \(defaultModel) when it is present (init_from). With --config the run has that file's model shape (add --model DIR to start from a model's weights instead). --model DIR continues another model directory, or resumes DIR if it is a run directory (it holds checkpoints). A run estimated to take over an hour asks before the terminal is taken over (--force skips the question). Space pauses and resumes, ? lists every key, q asks whether to save a checkpoint and quit; Ctrl-C, SIGTERM and SIGHUP save first (exit 130 / 143 / 129). The workbench needs a terminal that can address the cursor; for scripts use `whittle train --config FILE`.

        \(exitCodeHelp)
        """)

    static let defaultConfig = "configs/shakespeare-char-cpu.toml"
    static let defaultModel = "sample-models/shakespeare-char-tiny"

    @Option(name: .long, help: "Model or run directory (default: \(defaultModel) if present).")
    var model: String?

    @Option(name: .long, help: "TOML config of a new run (default: \(defaultConfig)).")
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config key (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(name: .long, help: "Resume the newest checkpoint of this run directory.")
    var resume: String?

    @Option(name: .long, help: "Run directory to create (default: runs/<config name>-<date>-<time>).")
    var out: String?

    @Option(name: .long, help: "Colour theme (default, light, mono, ember or a user theme).")
    var theme = "default"

    @Flag(name: .long, help: "Draw with ASCII characters only.")
    var ascii = false

    @Flag(name: .long, help: "Do not capture the mouse.")
    var noMouse = false

    @Flag(name: .long, help: "Start a run estimated to take over an hour without asking.")
    var force = false

    func validate() throws {
        if resume != nil && (config != nil || model != nil) {
            throw ValidationError("--resume cannot be combined with --config or --model; a resumed run uses its own config.toml (change keys with --set)")
        }
        if resume != nil && out != nil {
            throw ValidationError("--out cannot be used with --resume; the run continues in its own directory")
        }
    }

    /// The themes the workbench can show: the catalog's (built-in search path and user directory), or
    /// "default" alone when no theme files are found (the built-in default is used then).
    static func themeNames() -> [String] {
        let catalog = ThemeCatalog.load(
            from: ThemeCatalog.searchDirectories(
                environment: ProcessInfo.processInfo.environment, workingDirectory: FileManager.default.currentDirectoryPath,
                executableDirectory: Bundle.main.executableURL?.deletingLastPathComponent().path))
        return catalog.names.isEmpty ? ["default"] : catalog.names
    }

    func run() throws {
        let available = Self.themeNames()
        try reportingErrors {
            guard available.contains(theme) else {
                throw WhittleError.config("unknown theme '\(theme)'; available themes: \(available.joined(separator: ", "))",
                                          hint: "user themes go in $XDG_CONFIG_HOME/whittle/themes/NAME.theme")
            }
        }
        guard isatty(STDOUT_FILENO) == 1, isatty(STDIN_FILENO) == 1 else {
            printError("""
                whittle: the workbench needs a terminal (standard input and output must be a TTY).
                Use the command-line tools instead, for example:
                  whittle train --config \(Self.defaultConfig) --out runs/quick
                  whittle generate --model runs/quick --prompt "ROMEO:"
                  whittle --help
                """)
            throw ExitCode(2)
        }
        if let problem = CursesTerminal.capabilityProblem(environment: ProcessInfo.processInfo.environment) {
            printError("""
                whittle: \(problem).
                Run it in a terminal emulator such as xterm, tmux or the Linux console (e.g. TERM=xterm-256color),
                or use the command-line tools instead: whittle train --config \(Self.defaultConfig) --out runs/quick
                """)
            throw ExitCode(2)
        }
        let (origin, name, notice) = try reportingErrors { try makeOrigin() }
        let environment = ProcessInfo.processInfo.environment
        var options = WorkbenchOptions(
            origin: origin, runName: name, notice: notice, themeName: theme,
            curses: CursesOptions(mouse: !noMouse, forceASCII: ascii, environment: environment))
        options.autoStart = true
        options.launcher = makeLauncher()
        options.whittleVersion = WhittleCommand.configuration.version
        let result = runWorkbench(options)
        if let failure = result.failure { printError("training failed: \(failure)") }
        if result.abandonedSave {
            printError("stopped without saving step \(result.step); the last complete checkpoint stays valid")
        } else if let checkpoint = result.checkpoint {
            printError("checkpoint \(checkpoint) (step \(result.step))")
            printError("continue with: whittle --resume \(result.directory)")
        }
        if result.status != 0 { throw ExitCode(result.status) }
    }

    /// The run to open, its display name, and a status-bar notice about the choice.
    func makeOrigin() throws -> (TrainingSession.Origin, String, String?) {
        if let resume {
            // Another process writing the run is refused here, before the terminal is taken over (exit 75).
            if Checkpoint.holdsRun(resume), !FileManager.default.fileExists(atPath: resume + "/" + ModelDirectory.configName) {
                try RunLock(directory: resume).release()
            }
            return (.resume(directory: resume, overrides: overrides), lastComponent(resume), "resuming \(resume)...")
        }
        var notice: String?
        // The sample model is the default only without --config: a config's model shape is what the user asked for.
        let modelPath = model ?? (config == nil && FileManager.default.fileExists(atPath: Self.defaultModel) ? Self.defaultModel : nil)
        if let modelPath {
            guard FileManager.default.fileExists(atPath: modelPath) else {
                throw WhittleError.file("no model directory at '\(modelPath)'", hint: "check the path, or leave --model out")
            }
            if model != nil, config == nil, try Checkpoint.newest(in: modelPath) != nil {
                return (.resume(directory: modelPath, overrides: overrides), lastComponent(modelPath), "resuming \(modelPath)...")
            }
            notice = "continuing from model \(lastComponent(modelPath))"
        }
        let configPath = config ?? Self.defaultConfig
        var settings = FileManager.default.fileExists(atPath: configPath) || config != nil
            ? try TrainingConfig.load(path: configPath) : TrainingConfig()
        if let modelPath, notice != nil { settings.initFrom = modelPath }
        try settings.apply(overrides: overrides)
        try settings.validate()
        guard FileManager.default.fileExists(atPath: settings.datasetPath) else {
            throw WhittleError.data("the dataset '\(settings.datasetPath)' of \(configPath) does not exist",
                                    hint: "run whittle from the repository root, or set dataset=PATH with --set")
        }
        if settings.initFrom == "scratch" {
            try confirmBudget(settings)
        }
        if let out, Checkpoint.holdsRun(out) {
            throw WhittleError.config("'\(out)' already holds a training run",
                                      hint: "continue it with `whittle --resume \(out)` or choose another --out")
        }
        let directory = try out ?? RunDirectory.claim(name: URL(fileURLWithPath: configPath).deletingPathExtension().lastPathComponent)
        let name = lastComponent(directory) + (notice == nil ? "" : " (model \(lastComponent(modelPath!)))")
        return (.start(config: settings, directory: directory), name, notice)
    }

    /// New runs from the dialogs use the settings of --config (or the default config), with --set applied.
    func makeLauncher() -> RunLauncher {
        let path = config ?? Self.defaultConfig
        var base = (try? TrainingConfig.load(path: path)) ?? TrainingConfig()
        try? base.apply(overrides: overrides)
        base.initFrom = "scratch"
        return RunLauncher(baseConfig: base)
    }

    func lastComponent(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
    }

    /// Refuses a run over the memory budget, and asks on the terminal (before it is taken over)
    /// whether to start one estimated to take very long, unless --force.
    func confirmBudget(_ settings: TrainingConfig) throws {
        let vocabulary = try RunLauncher.vocabularySize(ofFile: settings.datasetPath)
        do {
            try settings.checkBudget(model: settings.modelConfig(vocabularySize: vocabulary), confirmedLong: force)
        } catch let error as WhittleError where error.kind == .needsConfirmation {
            printError("\(error.message).")
            printError("Start it anyway? [y/N] ", terminator: "")
            let answer = readLine(strippingNewline: true)?.lowercased() ?? ""
            guard answer == "y" || answer == "yes" else { throw error }
        }
    }
}
