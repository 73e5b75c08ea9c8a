// What can happen to the UI (Action: keys, mouse, resize, ticks, engine notifications) and what
// the UI asks the outside world to do in return (Effect: start, pause, step, set a value, ...).

import WhittleEngine

/// A key press, already decoded by the terminal backend.
public enum Key: Hashable, Sendable {
    case character(Character)
    case enter, escape, tab, backTab, backspace, delete
    case up, down, left, right, home, end, pageUp, pageDown
    case function(Int)

    /// How the key is written in help and the status bar.
    public var label: String {
        switch self {
        case .character(" "): "Space"
        case .character(let c): String(c)
        case .enter: "Enter"
        case .escape: "Esc"
        case .tab: "Tab"
        case .backTab: "S-Tab"
        case .backspace: "Bksp"
        case .delete: "Del"
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .home: "Home"
        case .end: "End"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .function(let n): "F\(n)"
        }
    }

    /// The label with ASCII arrows, for `--ascii`.
    public var asciiLabel: String {
        switch self {
        case .up: "Up"
        case .down: "Down"
        case .left: "Left"
        case .right: "Right"
        default: label
        }
    }
}

/// A mouse event in screen cells.
public struct MouseEvent: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case press, wheelUp, wheelDown }
    public var x: Int
    public var y: Int
    public var kind: Kind
    public init(x: Int, y: Int, kind: Kind) {
        self.x = x
        self.y = y
        self.kind = kind
    }
}

/// An input to `update`.
public enum Action: Equatable, Sendable {
    case key(Key)
    case mouse(MouseEvent)
    /// The terminal now has this many columns and rows.
    case resize(width: Int, height: Int)
    /// A frame timer tick (clears expired status messages).
    case tick
    /// The engine's session published a new run state.
    case runStateChanged(JobState)
    /// The engine's session has (true) or has no (false) steps since the last checkpoint.
    case unsavedProgressChanged(Bool)
    /// The engine finished writing a checkpoint.
    case checkpointSaved
    /// The engine applied these hyperparameters (the panel shows them from now on).
    case hyperparametersApplied(HyperparameterValues)
    /// The run's configuration as applied, with its vocabulary size (drives the what-if preview).
    case runConfigChanged(TrainingConfig, vocabularySize: Int)
    /// The engine refused a hyperparameter edit; the message names the key and what is allowed.
    case hyperparameterRejected(String)
    /// Something the engine wants the user to see (a notice or a failure), shown in the status bar.
    case engineMessage(String)
    /// The weights of `step` were copied; tokens follow.
    case generationStarted(step: Int)
    /// More generated text.
    case generationOutput(String)
    case generationFinished(GenerationSummary)
    case generationFailed(String)
    /// The model and run directories the open dialog lists.
    case modelsListed([ModelEntry])
    /// The host's check of the new-run form.
    case newRunChecked(NewRunCheck)
    /// The experiment queue started; its runs and tables go under `directory`.
    case experimentsStarted(directory: String)
    /// The experiment session's latest view of the queue; `running` is false once it has ended.
    case experimentsProgress([ExperimentRun], running: Bool)
    /// The run was replaced (opened or started from a dialog); the UI starts afresh.
    case runReplaced
    /// The current run's directory (the Compress screen's default model).
    case runDirectoryChanged(String)
    /// What the engine read of a model the Compress screen will start from, or why it could not.
    case modelInspected(ModelInspection)
    case modelInspectionFailed(path: String, String)
    /// The comparison's progress: what the engine is doing and how far (0...1).
    case comparisonProgress(String, Double)
    case comparisonFinished(ComparisonReport)
    case comparisonFailed(String)
    /// These compared models' directories no longer exist.
    case modelsMissing([String])
    /// More side-by-side text from model `index`, its timing, or why it failed.
    case sideBySideOutput(index: Int, String)
    case sideBySideFinished(index: Int, GenerationSummary)
    case sideBySideFailed(index: Int, String)
    /// The per-tensor weight errors of `variant`, or why they could not be measured.
    case tensorErrorsMeasured(variant: String, [TensorError])
    case tensorErrorsFailed(variant: String, String)
    /// The running pass's progress, and how it ended.
    case passProgress(String, Double)
    case passFinished(directory: String)
    case passFailed(String)
    case passCancelled
    /// The sensitivity scan's progress, its map, or how it ended otherwise.
    case scanProgress(String, Double)
    case scanFinished(SensitivityMap)
    case scanFailed(String)
    case scanCancelled
    /// What the training thread is doing for a prune-now / quantize-now (nil: nothing), its result, or why it failed.
    case compressionProgress(String?)
    case compressionFinished(CompressionEvent)
    case compressionFailed(String)
}

/// Something `update` asks the host to do; the host runs it and reports back through Actions.
public enum Effect: Equatable, Sendable {
    case startTraining
    case pause
    case resume
    /// Run exactly this many optimizer steps, then pause.
    case step(Int)
    /// Apply a validated value at the next step boundary.
    case setHyperparameter(HyperparameterID, HyperparameterValue)
    case saveCheckpoint
    /// Switch to the named theme (the next in the catalog).
    case cycleTheme(String)
    /// Restore the terminal and exit.
    case quit
    /// Sample from a copy of the current weights (taken at a step boundary) in an engine job.
    case generate(GenerateRequest)
    /// List model and run directories (answered with `.modelsListed`).
    case listModels
    /// Validate a new run and estimate its memory (answered with `.newRunChecked`).
    case checkNewRun(NewRunRequest)
    /// Stop the current run (saving a checkpoint first if `saveCurrent`) and open or start another.
    case replaceRun(RunReplacement, saveCurrent: Bool)
    /// Do not save a checkpoint when quitting.
    case discardUnsaved
    /// Run the planned experiments one after another in an engine ExperimentSession.
    case startExperiments(ExperimentPlan)
    /// Write sweep.md, sweep.csv and sweep.json for the runs so far.
    case exportExperiments
    /// Stop the running child and drop the rest of the queue.
    case cancelExperiments
    /// List model, run and variant directories for the Compare and Compress pickers (answered with `.modelsListed`).
    case listLibrary
    /// Read a model's shape and tokenizer (answered with `.modelInspected` or `.modelInspectionFailed`).
    case inspectModel(String)
    /// Measure the models as `whittle compare` does (answered with `.comparisonProgress`, then finished or failed).
    case compare(ComparisonRequest)
    /// Report which of these paths no longer exist (answered with `.modelsMissing`).
    case checkModels([String])
    /// Write compare.md, compare.csv and compare.json.
    case exportComparison(ComparisonReport)
    /// Measure each quantizable tensor's weight error of `variant` against `base`.
    case measureTensorErrors(base: String, variant: String)
    /// Generate the same prompt with the same seed through each model.
    case generateSideBySide(models: [String], prompt: String, count: Int, seed: UInt64)
    /// Run a quantization pass in an engine job.
    case quantize(QuantizeRequest)
    /// Run a prune pass in an engine job.
    case prune(PruneRequest)
    /// Run a distillation pass (a training run of the student, then its variant) in an engine job.
    case distil(DistilRequest)
    /// Cancel the running pass or scan (nothing is written).
    case cancelPass
    /// Scan the model's sensitivity (each tensor alone at each type) on calibration windows.
    case scanSensitivity(basePath: String, samples: Int)
    /// Prune the live run's weights at the next step boundary, keeping the mask.
    case pruneNow(PruneNowRequest)
    /// Quantize a copy of the live weights, evaluate it against fp32, train on.
    case quantizeNow(QuantizeNowRequest)
}
