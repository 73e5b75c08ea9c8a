// The values an experiment queue is made of: the validated plan (every combination of a sweep over
// a base config), each run's status, validation curve and result row. Plain Sendable values shared
// by `ExperimentSession`, `whittle sweep` and the workbench's Experiments screen.

/// A validated queue of runs.
public struct ExperimentPlan: Equatable, Sendable {
    /// The config every run starts from.
    public var base: TrainingConfig
    public var runs: [SweepRun]
    public var variedKeys: [String]
    /// Validation loss whose first crossing is timed (the table's "time to target").
    public var targetLoss: Double?

    public init(base: TrainingConfig, runs: [SweepRun], variedKeys: [String], targetLoss: Double? = nil) {
        self.base = base
        self.runs = runs
        self.variedKeys = variedKeys
        self.targetLoss = targetLoss
    }

    /// The plan of a sweep over `base`.
    public init(sweep: SweepPlan, base: TrainingConfig, targetLoss: Double? = nil) {
        self.init(base: base, runs: sweep.runs, variedKeys: sweep.variedKeys, targetLoss: targetLoss)
    }
}

/// Where a queued run is.
public enum ExperimentStatus: Equatable, Sendable {
    case queued
    case running(step: Int, total: Int)
    case finished
    case failed(String)

    public var isDone: Bool {
        switch self {
        case .finished, .failed: true
        case .queued, .running: false
        }
    }
}

/// One periodic validation-loss estimate of a run.
public struct ValidationPoint: Equatable, Sendable {
    public var step: Int
    public var loss: Double

    public init(step: Int, loss: Double) {
        self.step = step
        self.loss = loss
    }
}

/// One run of the queue: its settings, where it is, its curve so far and its row once it ended.
public struct ExperimentRun: Equatable, Sendable {
    public var name: String
    /// The varied keys' values, as typed (strings unquoted).
    public var settings: [String: String]
    public var status: ExperimentStatus = .queued
    /// Periodic validation-loss estimates so far.
    public var validationLoss: [ValidationPoint] = []
    /// The table row once the run has finished (or failed).
    public var result: SweepResult?

    public init(name: String, settings: [String: String]) {
        self.name = name
        self.settings = settings
    }
}
