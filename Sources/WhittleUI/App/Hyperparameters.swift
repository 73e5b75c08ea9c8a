// The hyperparameters the Train screen edits live: their names (the config-file keys), labels,
// choices and left/right nudges. Validation is the engine's (`TrainingConfig.setting`), so the
// panel accepts exactly what `--set` accepts.

import Foundation
import WhittleEngine

/// A hyperparameter value as the UI edits it.
public enum HyperparameterValue: Equatable, Hashable, Sendable {
    case real(Double)
    case integer(Int)
    case choice(String)

    /// The value as shown in the panel.
    public var text: String {
        switch self {
        case .real(let v): "\(v)".count <= 8 ? "\(v)" : NumberFormat.compact(v)
        case .integer(let v): String(v)
        case .choice(let v): v
        }
    }

    /// The value at full precision, as the engine parses it back (prefills the edit buffer).
    public var editText: String {
        switch self {
        case .real(let v): "\(v)"
        case .integer(let v): String(v)
        case .choice(let v): v
        }
    }
}

/// A validation failure for an edited value.
public struct HyperparameterError: Error, Equatable, Sendable {
    public var message: String
}

/// The live-editable hyperparameters; raw values are the config-file keys.
public enum HyperparameterID: String, CaseIterable, Sendable, Hashable {
    case learningRate = "learning_rate"
    case schedule = "schedule"
    case weightDecay = "weight_decay"
    case beta1 = "beta1"
    case beta2 = "beta2"
    case gradientClip = "grad_clip"
    case batchSize = "batch_size"
    case gradientAccumulation = "gradient_accumulation_steps"
    case evalInterval = "eval_interval"
    // The training-efficiency lab's settings.
    case optimizer = "optimizer"
    case momentum = "momentum"
    case dropout = "dropout"
    case workers = "workers"
    case blasThreads = "blas_threads"
    case checkpointing = "checkpointing"
    case precision = "precision"
    case lossScaling = "loss_scaling"
    case earlyStoppingPatience = "early_stopping_patience"

    /// The label shown in the panel.
    public var label: String {
        switch self {
        case .learningRate: "learning rate"
        case .schedule: "schedule"
        case .weightDecay: "weight decay"
        case .beta1: "beta1"
        case .beta2: "beta2"
        case .gradientClip: "grad clip"
        case .batchSize: "batch size"
        case .gradientAccumulation: "grad accum"
        case .evalInterval: "eval interval"
        case .optimizer: "optimizer"
        case .momentum: "momentum"
        case .dropout: "dropout"
        case .workers: "workers"
        case .blasThreads: "BLAS threads"
        case .checkpointing: "checkpointing"
        case .precision: "precision"
        case .lossScaling: "loss scaling"
        case .earlyStoppingPatience: "early stop"
        }
    }

    /// Whether the value is one of a list of names (←/→ cycle through them).
    public var isChoice: Bool { [.schedule, .optimizer, .checkpointing, .precision, .lossScaling].contains(self) }

    /// The allowed optimizer names.
    public static let optimizerChoices = OptimizerKind.allCases.map(\.rawValue)
    /// The checkpointing values ←/→ cycle through (every-K for larger K can be typed; the engine
    /// rejects K above the layer count).
    public static let checkpointingChoices = ["false", "true", "every-2", "every-3", "every-4"]

    /// The names ←/→ cycle through for a choice value.
    public var choices: [String] {
        switch self {
        case .schedule: HyperparameterID.scheduleChoices
        case .optimizer: HyperparameterID.optimizerChoices
        case .checkpointing: HyperparameterID.checkpointingChoices
        case .precision: HyperparameterID.precisionChoices
        case .lossScaling: ["true", "false"]
        default: []
        }
    }

    /// The allowed precision names.
    public static let precisionChoices = Precision.allCases.map(\.rawValue)

    /// The allowed schedule names.
    public static let scheduleChoices = LearningRateSchedule.Kind.allCases.map(\.rawValue)

    /// Parses and validates typed text as the engine does for a live edit of `config`: the key
    /// table reads it and `TrainingConfig.validate()` checks it with the rest of `config`, so the panel
    /// accepts exactly what `--set` and the session accept, with the same messages.
    public func parse(_ text: String, in config: TrainingConfig) -> Result<HyperparameterValue, HyperparameterError> {
        do {
            let candidate = try config.setting(rawValue, to: text, source: TrainingSession.editSource)
            return .success(HyperparameterValues(config: candidate)[self])
        } catch {
            return .failure(HyperparameterError(message: (error as? WhittleError)?.message ?? String(describing: error)))
        }
    }

    /// The value one step up or down from `value` (left/right arrows); nil when `config` would not
    /// accept it (see `parse`).
    public func nudge(_ value: HyperparameterValue, up: Bool, in config: TrainingConfig) -> HyperparameterValue? {
        var next: HyperparameterValue
        switch (self, value) {
        case (.schedule, .choice(let name)), (.optimizer, .choice(let name)), (.checkpointing, .choice(let name)),
             (.precision, .choice(let name)), (.lossScaling, .choice(let name)):
            let choices = self.choices
            guard let index = choices.firstIndex(of: name) else { next = .choice(choices[up ? 0 : choices.count - 1]); break }
            next = .choice(choices[(index + (up ? 1 : choices.count - 1)) % choices.count])
        case (.momentum, .real(let v)): next = .real(v + (up ? 0.01 : -0.01))
        case (.dropout, .real(let v)): next = .real(max(0, v + (up ? 0.05 : -0.05)))
        case (.workers, .integer(let v)), (.blasThreads, .integer(let v)): next = .integer(v + (up ? 1 : -1))
        case (.earlyStoppingPatience, .integer(let v)): next = .integer(max(v + (up ? 1 : -1), 0))
        case (.learningRate, .real(let v)): next = .real(up ? v * 2 : v / 2)
        case (.weightDecay, .real(let v)), (.gradientClip, .real(let v)): next = .real(max(0, v + (up ? 0.05 : -0.05)))
        case (.beta1, .real(let v)): next = .real(v + (up ? 0.01 : -0.01))
        case (.beta2, .real(let v)): next = .real(v + (up ? 0.001 : -0.001))
        case (.batchSize, .integer(let v)), (.gradientAccumulation, .integer(let v)):
            next = .integer(up ? v * 2 : max(v / 2, 1))
        case (.evalInterval, .integer(let v)): next = .integer(max(up ? v + 50 : v - 50, 1))
        default: return nil
        }
        if case .real(let v) = next { next = .real(Double(String(format: "%.6g", v)) ?? v) }
        guard case .success(let checked) = parse(next.editText, in: config) else { return nil }
        return checked == value ? nil : checked
    }
}

/// A value for every `HyperparameterID`.
public struct HyperparameterValues: Equatable, Sendable {
    public var values: [HyperparameterID: HyperparameterValue]

    /// The values of a training configuration.
    public init(config: TrainingConfig = TrainingConfig()) {
        func real(_ value: Float) -> HyperparameterValue { .real(Double("\(value)") ?? Double(value)) }
        values = [
            .learningRate: real(config.learningRate), .schedule: .choice(config.schedule.rawValue),
            .weightDecay: real(config.weightDecay), .beta1: real(config.beta1),
            .beta2: real(config.beta2), .gradientClip: real(config.gradientClip),
            .batchSize: .integer(config.batchSize), .gradientAccumulation: .integer(config.gradientAccumulationSteps),
            .evalInterval: .integer(config.evalInterval),
            .optimizer: .choice(config.optimizer.rawValue), .momentum: real(config.momentum),
            .dropout: real(config.dropout), .workers: .integer(config.workers),
            .blasThreads: .integer(config.blasThreads), .checkpointing: .choice(config.checkpointing),
            .precision: .choice(config.precision.rawValue), .lossScaling: .choice(config.lossScaling ? "true" : "false"),
            .earlyStoppingPatience: .integer(config.earlyStoppingPatience),
        ]
    }

    /// The value of `id` (every id has one).
    public subscript(id: HyperparameterID) -> HyperparameterValue {
        get { values[id] ?? .choice("?") }
        set { values[id] = newValue }
    }
}
