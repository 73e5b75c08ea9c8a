// What a finished run measured, written as `summary.json` in the run directory: the figures the
// model card, `whittle train`'s last line and `whittle sweep`'s table are made from.

import Foundation

/// The measured outcome of a training run.
public struct RunSummary: Codable, Equatable, Sendable {
    public var steps: Int
    public var tokensPerStep: Int
    /// Median step time, excluding the first steps (warm-up) when there are enough.
    public var medianMilliseconds: Double
    public var tokensPerSecond: Double
    /// Sum of step times (periodic estimates excluded).
    public var trainingSeconds: Double
    /// Wall time of this process's part of the run (nil for resumed runs).
    public var wallSeconds: Double?
    /// The last periodic estimate (eval_iters batches of each split).
    public var lastEstimate: LossEstimate?
    /// The whole validation split, as `whittle eval` reports it.
    public var validation: EvaluationResult
    public var ledger: TrainingSession.MemoryLedger
    /// Distillation runs: the teacher, the loss settings and each term's mean over the last steps.
    public var distillation: DistillationSummary?

    public static let fileName = "summary.json"

    enum CodingKeys: String, CodingKey {
        case steps, tokensPerStep = "tokens_per_step", medianMilliseconds = "median_ms",
             tokensPerSecond = "tokens_per_s", trainingSeconds = "training_s", wallSeconds = "wall_s",
             lastEstimate = "last_estimate", validation, ledger, distillation
    }

    /// Reads a run directory's summary.
    public static func load(runDirectory: String) throws -> RunSummary {
        let path = runDirectory + "/" + fileName
        do {
            return try JSONDecoder().decode(RunSummary.self, from: Data(try FileIO.readFile(path)))
        } catch let error as WhittleError {
            throw error
        } catch {
            throw WhittleError.file("\(path) is not a valid run summary: \(error)", hint: "rerun the training run")
        }
    }
}

extension Trainer {
    /// Median step time skipping the first 10% of steps (at most 10), which include warm-up effects.
    var medianStepMilliseconds: Double {
        let steady = history.dropFirst(min(10, history.count / 10)).map(\.milliseconds).sorted()
        return steady.isEmpty ? 0 : steady[steady.count / 2]
    }
}

/// What a distillation run's summary adds: where the teacher came from, the loss, and the terms.
public struct DistillationSummary: Codable, Equatable, Sendable {
    public var teacher: TeacherReference
    public var alpha: Float
    public var temperature: Float
    public var loss: DistillationDirection
    public var hiddenWeight: Float
    public var studentInit: StudentInit
    /// Means over the last `termSteps` steps: objective, cross-entropy, KL at T, 1 − cos (when weighted).
    public var termSteps: Int
    public var objective: Double
    public var crossEntropy: Double
    public var divergence: Double
    public var hiddenCosine: Double?

    enum CodingKeys: String, CodingKey {
        case teacher, alpha, temperature, loss, hiddenWeight = "hidden_weight", studentInit = "student_init",
             termSteps = "term_steps", objective, crossEntropy = "ce", divergence = "kl", hiddenCosine = "hidden_cos"
    }
}

extension Trainer {
    /// The distillation part of the run summary (nil without a teacher): terms averaged over the last
    /// tenth of the steps (at least 1, at most 100).
    var distillationSummary: DistillationSummary? {
        guard let teacher else { return nil }
        let recent = history.suffix(max(1, min(100, history.count / 10))).filter { $0.divergence != nil }
        func mean(_ value: (StepRecord) -> Float?) -> Double {
            let values = recent.compactMap(value)
            return values.isEmpty ? 0 : values.reduce(0) { $0 + Double($1) } / Double(values.count)
        }
        let c = config
        return DistillationSummary(teacher: teacher.reference, alpha: c.distillAlpha, temperature: c.distillTemperature,
                                   loss: c.distillLoss, hiddenWeight: c.distillHiddenWeight, studentInit: c.studentInit,
                                   termSteps: recent.count, objective: mean(\.loss), crossEntropy: mean(\.crossEntropy),
                                   divergence: mean(\.divergence),
                                   hiddenCosine: c.distillHiddenWeight > 0 ? mean(\.hiddenCosine) : nil)
    }
}
