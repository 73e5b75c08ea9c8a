// The distillation settings of a run: which teacher, how the loss weighs KL against cross-entropy,
// and how the student starts. Range checks live here and run with the rest of `validate()`.

/// How a distilled student's weights start.
public enum StudentInit: String, CaseIterable, Equatable, Sendable, Codable {
    /// GPT-2's random initialisation from `seed`.
    case scratch
    /// Token and position embeddings, final LayerNorm and every k-th block copied from the teacher
    /// (DistilBERT's recipe); needs an fp32 teacher of the same width and heads.
    case teacherLayers = "teacher_layers"
}

extension TrainingConfig {
    /// Whether this run learns from a teacher.
    public var isDistillation: Bool { teacher != "none" }

    /// The loss weights the distillation head uses.
    public var distillationWeights: DistillationWeights {
        DistillationWeights(alpha: distillAlpha, temperature: distillTemperature, direction: distillLoss)
    }

    func validateDistillation() throws {
        guard distillAlpha >= 0 && distillAlpha <= 1 else {
            throw WhittleError.config("distill_alpha must be in [0, 1] (got \(distillAlpha))",
                                      hint: "0 trains on cross-entropy alone, 1 on the teacher alone; 0.5 is the usual start")
        }
        guard distillTemperature.isFinite && distillTemperature > 0 else {
            throw WhittleError.config("distill_temperature must be a finite number > 0 (got \(distillTemperature))",
                                      hint: "1 keeps the teacher's distribution; 2 to 4 soften it (Hinton et al.)")
        }
        guard distillHiddenWeight.isFinite && distillHiddenWeight >= 0 else {
            throw WhittleError.config("distill_hidden_weight must be a finite number ≥ 0 (got \(distillHiddenWeight))",
                                      hint: "0 turns the hidden-state cosine term off")
        }
        guard !teacher.trimmingWhitespace().isEmpty else {
            throw WhittleError.config("teacher must name a model directory or be \"none\" (got an empty path)",
                                      hint: "for example teacher = \"sample-models/shakespeare-char-small\"")
        }
        if !isDistillation && studentInit != .scratch {
            throw WhittleError.config("student_init = \(studentInit.rawValue) needs a teacher (teacher is \"none\")",
                                      hint: "set teacher = \"DIR\", or student_init = \"scratch\"")
        }
        if !isDistillation && distillHiddenWeight > 0 {
            throw WhittleError.config("distill_hidden_weight = \(distillHiddenWeight) needs a teacher (teacher is \"none\")",
                                      hint: "set teacher = \"DIR\", or distill_hidden_weight = 0")
        }
        if isDistillation && initFrom != "scratch" && studentInit == .teacherLayers {
            throw WhittleError.config("init_from and student_init = teacher_layers both say where the weights start",
                                      hint: "keep one: init_from = \"scratch\", or student_init = \"scratch\"")
        }
    }
}
