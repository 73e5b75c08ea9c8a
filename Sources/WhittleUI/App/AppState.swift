// Everything the UI remembers between frames: which screen and pane, the hyperparameter panel's
// selection and edit buffer, open dialogs, chart options, theme and terminal size, and the few
// engine facts `update` decides on (the run's state and config as the engine last published them,
// delivered as actions). The engine's numbers are not here; they arrive as a TrainingMetricsSnapshot
// at render time.

import WhittleEngine

/// The top-level screens.
public enum AppScreen: String, Equatable, Sendable, CaseIterable {
    case train
    case generate
    /// Queued comparison runs (`e`).
    case experiments
    /// The base and its variants side by side (`v`).
    case compare
    /// Making variants (`w`).
    case compress
}

/// Panes of the Train screen in Tab order.
public enum Pane: String, Equatable, Sendable, CaseIterable {
    case charts
    case hyperparameters
    case memory
}

/// A dialog drawn over the current screen that takes all keys while open.
public enum Modal: Equatable, Sendable {
    /// The keymap, scrolled down by `scroll` lines.
    case help(scroll: Int)
    /// "Quit without saving?".
    case confirmQuit
    /// "Run how many steps?" with its edit buffer and validation error.
    case runSteps(TextField, error: String?)
    /// Open a model or run directory.
    case openModel(ModelPicker)
    /// Start a new run: shape, dataset and seed, checked as typed.
    case newRun(NewRunForm)
    /// "Save the current run before switching?".
    case replaceRun(RunReplacement)
    /// Prune or quantize the live run now (`p`, `z`).
    case liveCompress(LiveCompressForm)
}

/// Which x axis charts use.
public enum ChartXAxis: String, Equatable, Sendable {
    case step
    case time
}

/// Display options shared by the Train screen's charts.
public struct ChartSettings: Equatable, Sendable {
    /// EMA weights selectable with +/-; 0 means no smoothing.
    public static let smoothingLevels: [Double] = [0, 0.6, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999]
    /// Index into `smoothingLevels`.
    public var smoothingLevel = 3
    public var logScale = false
    public var xAxis: ChartXAxis = .step

    public init() {}

    /// The EMA weight β in use.
    public var smoothing: Double { ChartSettings.smoothingLevels[smoothingLevel] }
}

/// The UI's state; changed only by `update` (the host turns engine news into actions).
public struct AppState: Equatable, Sendable {
    /// The smallest terminal the workbench draws into.
    public static let minimumSize = (width: 80, height: 24)

    public var screen: AppScreen = .train
    public var modal: Modal?
    public var focus: Pane = .charts
    /// Index into `HyperparameterID.allCases`.
    public var selectedHyperparameter = 0
    /// The edit buffer while a hyperparameter is being typed; nil when not editing.
    public var editing: TextField?
    /// The last validation failure, shown under the panel until the next edit.
    public var validationError: String?
    /// The values shown in the panel (edits show here at once, marked pending until the engine applies them).
    public var hyperparameters: HyperparameterValues
    /// The run's applied configuration and vocabulary size (for the what-if memory preview); nil before a run loads.
    public var runConfig: TrainingConfig?
    public var vocabularySize = 0
    /// The run's state exactly as the engine's session last published it (never guessed ahead):
    /// what the header shows and what Space, `s` and `q` decide on. A failed run carries its error.
    public var runState: JobState = .idle
    /// The engine reports steps taken since the last checkpoint (quitting asks first).
    public var hasUnsavedProgress = false
    public var chart = ChartSettings()
    public var themeName: String
    /// Theme names in cycling order.
    public var themeNames: [String]
    public var terminalWidth: Int
    public var terminalHeight: Int
    /// Draw with ASCII glyphs only.
    public var useASCII: Bool
    /// The last "run N steps" count, offered again next time.
    public var runStepCount = 100
    /// A transient message for the status bar and the ticks it has left.
    public var message: String?
    public var messageTicks = 0
    /// The Generate screen's form and output.
    public var generate = GenerateForm()
    /// The Experiments screen's form and queue.
    public var experiments = ExperimentsState()
    /// The Compare screen's models, report and view.
    public var compare = CompareState()
    /// The Compress screen's form and running pass.
    public var compress = CompressState()
    /// The current run's directory (the Compress screen's default model), as the host reports it.
    public var runDirectory: String?
    /// Prune-now / quantize-now: what runs and the latest result.
    public var liveCompression = LiveCompressionState()

    public init(
        width: Int = 80, height: Int = 24, hyperparameters: HyperparameterValues = HyperparameterValues(),
        themeName: String = "default", themeNames: [String] = ["default", "mono"], useASCII: Bool = false
    ) {
        terminalWidth = width
        terminalHeight = height
        self.hyperparameters = hyperparameters
        self.themeName = themeName
        self.themeNames = themeNames
        self.useASCII = useASCII
    }

    /// Whether the terminal is below `minimumSize`.
    public var isTooSmall: Bool {
        terminalWidth < AppState.minimumSize.width || terminalHeight < AppState.minimumSize.height
    }

    /// The selected hyperparameter.
    public var selectedID: HyperparameterID { HyperparameterID.allCases[selectedHyperparameter] }

    /// The glyph set for `useASCII`.
    public var glyphs: Glyphs { useASCII ? .ascii : .unicode }

    /// Which keymap context receives keys now.
    public var keyContext: KeyContext {
        switch modal {
        case .help: return .help
        case .confirmQuit, .runSteps, .replaceRun: return .dialog
        case .openModel: return .picker
        case .newRun: return .newRun
        case .liveCompress: return .liveCompress
        case nil: break
        }
        if screen == .generate { return .generate }
        if screen == .experiments { return .experiments }
        if screen == .compare { return compare.editingData || compare.editingPrompt ? .compareField : .compare }
        if screen == .compress { return .compress }
        if editing != nil { return .editing }
        return focus == .hyperparameters ? .hyperparameters : .global
    }
}
