// The hyperparameters the Train screen edits live: their names (the config-file keys), labels,
// validation with messages that say what is allowed, and left/right nudges.

import Foundation
import WhittleEngine

/// A hyperparameter value as the UI edits it.
public enum HyperparameterValue: Equatable, Hashable, Sendable {
    case real(Double)
    case integer(Int)
    case choice(String)

    /// The value as shown in the panel and accepted back by `HyperparameterID.parse`.
    public var text: String {
        switch self {
        case .real(let v): "\(v)".count <= 8 ? "\(v)" : NumberFormat.compact(v)
        case .integer(let v): String(v)
        case .choice(let v): v
        }
    }

    /// The value at full precision, used to prefill the edit buffer.
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

    /// Parses and validates typed text.
    public func parse(_ text: String) -> Result<HyperparameterValue, HyperparameterError> {
        let trimmed = text.trimmingWhitespace()
        func real(_ range: ClosedRange<Double>, _ rule: String) -> Result<HyperparameterValue, HyperparameterError> {
            guard let v = Double(trimmed), v.isFinite else {
                return .failure(.init(message: "\(label): '\(trimmed)' is not a number"))
            }
            guard range.contains(v) else { return .failure(.init(message: "\(label) must be \(rule)")) }
            return .success(.real(v))
        }
        func integer(_ range: ClosedRange<Int>) -> Result<HyperparameterValue, HyperparameterError> {
            guard let v = Int(trimmed) else {
                return .failure(.init(message: "\(label): '\(trimmed)' is not a whole number"))
            }
            guard range.contains(v) else {
                return .failure(.init(message: "\(label) must be \(range.lowerBound)...\(range.upperBound)"))
            }
            return .success(.integer(v))
        }
        switch self {
        case .learningRate:
            guard let v = Double(trimmed), v > 0 else {
                return .failure(.init(message: "learning rate must be a number > 0, e.g. 3e-4"))
            }
            return real(1e-8...1, "between 1e-8 and 1")
        case .schedule:
            let name = trimmed.lowercased()
            guard HyperparameterID.scheduleChoices.contains(name) else {
                return .failure(
                    .init(
                        message: "schedule must be one of: \(HyperparameterID.scheduleChoices.joined(separator: ", "))")
                )
            }
            return .success(.choice(name))
        case .weightDecay: return real(0...1, "between 0 and 1")
        case .beta1, .beta2:
            if let v = Double(trimmed), v >= 1 {
                return .failure(.init(message: "\(label) must be below 1 (e.g. 0.9)"))
            }
            return real(0...0.999999, "between 0 and 1 (exclusive)")
        case .gradientClip: return real(0...1000, "between 0 (off) and 1000")
        case .batchSize: return integer(1...4096)
        case .gradientAccumulation: return integer(1...1024)
        case .evalInterval: return integer(1...1_000_000)
        case .optimizer:
            let name = trimmed.lowercased()
            guard HyperparameterID.optimizerChoices.contains(name) else {
                return .failure(
                    .init(message: "optimizer must be one of: \(HyperparameterID.optimizerChoices.joined(separator: ", "))"))
            }
            return .success(.choice(name))
        case .momentum:
            if let v = Double(trimmed), v >= 1 { return .failure(.init(message: "momentum must be below 1 (e.g. 0.9)")) }
            return real(0...0.999999, "between 0 and 1 (exclusive)")
        case .dropout:
            if let v = Double(trimmed), v >= 1 { return .failure(.init(message: "dropout must be below 1 (0 disables)")) }
            return real(0...0.999999, "in [0, 1)")
        case .workers, .blasThreads: return integer(1...TrainingConfig.threadLimit)
        case .checkpointing:
            var probe = TrainingConfig()
            probe.checkpointing = trimmed.lowercased()
            guard probe.checkpointEvery != nil else {
                return .failure(.init(message: "checkpointing must be false, true or every-K (e.g. every-2)"))
            }
            return .success(.choice(probe.checkpointing))
        case .precision, .lossScaling:
            let name = trimmed.lowercased()
            guard choices.contains(name) else {
                return .failure(.init(message: "\(label) must be one of: \(choices.joined(separator: ", "))"))
            }
            return .success(.choice(name))
        case .earlyStoppingPatience: return integer(0...1_000_000)
        }
    }

    /// The value one step up or down from `value` (left/right arrows); nil when it would be invalid.
    public func nudge(_ value: HyperparameterValue, up: Bool) -> HyperparameterValue? {
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
        guard case .success(let checked) = parse(next.editText) else { return nil }
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
