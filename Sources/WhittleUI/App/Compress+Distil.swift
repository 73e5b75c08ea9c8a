// The Compress screen's distil pass: the student's rows as typed (layers, width, heads, how it
// starts, alpha, temperature, steps), their defaults for a teacher (half its blocks, its width and
// heads, the shipped student recipe's alpha 0.5 and T 2), the engine's plan and prediction of the
// student (shape, parameters, the exact model.safetensors size, memory, steps × tokens) checked by
// the training config's key table, the request Apply sends, and the default run directory
// (runs/<teacher>-student-<layers>x<width>; the student variant goes to RUN/student).

import WhittleEngine

/// A distillation pass as the screen asks the host to run it.
public struct DistilRequest: Equatable, Sendable {
    /// The teacher as chosen on the model row.
    public var teacher: String
    /// The student's training config: the teacher's config.toml with `overrides` applied.
    public var config: TrainingConfig
    public var overrides: [String]
    /// The run directory (new); the student variant is published in RUN/student.
    public var runDirectory: String

    public init(teacher: String, config: TrainingConfig, overrides: [String], runDirectory: String) {
        self.teacher = teacher
        self.config = config
        self.overrides = overrides
        self.runDirectory = runDirectory
    }
}

/// The distil pass's rows, as typed.
public struct DistilForm: Equatable, Sendable {
    public var layers = TextField()
    public var width = TextField()
    public var heads = TextField()
    public var studentInit = DistillationPlan.defaultStudentInit
    public var alpha = TextField(String(DistillationPlan.defaultAlpha))
    public var temperature = TextField(String(DistillationPlan.defaultTemperature))
    public var steps = TextField(String(DistilForm.defaultSteps))

    /// The shipped student recipe's steps (`configs/shakespeare-char-student.toml`).
    public static let defaultSteps = 600

    public init() {}

    /// The defaults for `teacher`: half its blocks, its width and heads (so its layers can be copied).
    public init(teacher: ModelConfig) {
        layers = TextField(String(DistillationPlan.defaultLayers(teacher: teacher.layerCount)))
        width = TextField(String(teacher.embeddingWidth))
        heads = TextField(String(teacher.headCount))
    }

    /// The rows as the training config's `key=value` settings.
    public var settings: [String] {
        ["n_layer=\(layers.text)", "n_embd=\(width.text)", "n_head=\(heads.text)", "student_init=\(studentInit.rawValue)",
         "distill_alpha=\(alpha.text)", "distill_temperature=\(temperature.text)", "max_iters=\(steps.text)"]
    }
}

extension CompressState {
    /// What the distil rows make of the inspected teacher, or why they cannot.
    public var distillationPrediction: Result<DistillationPrediction, FormError>? {
        guard let model, let inspection else { return nil }
        guard let base = inspection.trainingConfig else {
            let why = inspection.trainingConfigError.map { "cannot read \(model)/config.toml: " + $0 }
                ?? "\(model) has no config.toml naming the text it learned, so a student has nothing to train on"
            return .failure(FormError(message: why + " (use `whittle distill --config FILE`)"))
        }
        let plan = DistillationPlan(teacher: model, settings: distil.settings)
        do {
            return .success(try plan.predict(base: base, teacherModel: inspection.config, teacherIsFloat: inspection.isFloat))
        } catch {
            return .failure(FormError(message: (error as? WhittleError)?.message ?? "\(error)"))
        }
    }

    /// The request Apply sends for a distil pass, or what is wrong.
    public func distilRequest() -> Result<DistilRequest, FormError> {
        guard let model, inspection != nil else {
            return .failure(FormError(message: inspectionError ?? "choose a teacher first (Enter on the model row)"))
        }
        let prediction: DistillationPrediction
        switch distillationPrediction {
        case .failure(let error)?: return .failure(error)
        case .success(let valid)?: prediction = valid
        case nil: return .failure(FormError(message: "the teacher is still being read"))
        }
        // The form has no confirmation step: a run the engine would refuse without one is refused here.
        guard prediction.estimatedSeconds <= ResourceBudget.longRunSeconds else {
            return .failure(FormError(message: "the student's training is estimated at \(ResourceBudget.formatSeconds(prediction.estimatedSeconds)), over an hour: lower the steps or the student's size (or `whittle distill --force`)"))
        }
        let out = output.text.trimmingWhitespace()
        guard !out.isEmpty else { return .failure(FormError(message: "name the run directory")) }
        return .success(DistilRequest(teacher: model, config: prediction.config, overrides: prediction.overrides, runDirectory: out))
    }

    /// "student-2x128".
    var distilOutputSuffix: String { "student-\(distil.layers.text)x\(distil.width.text)" }
}
