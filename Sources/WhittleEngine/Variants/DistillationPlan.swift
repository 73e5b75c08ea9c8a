// A distillation pass as the workbench's Compress screen plans it: a teacher, the student's settings
// as typed (shape, loss weights, steps, how it starts) applied through the training config's key
// table over the teacher's own `config.toml` (its text, context, batch and optimiser), and what that
// student will be before anything trains — its model shape, parameters, the exact size of the
// `model.safetensors` it will publish, the memory its weights take, and the training it costs
// (steps × tokens per step). The overrides are exactly what `whittle distill --config TEACHER/config.toml
// --set ...` would apply, so the recorded command makes the same run.

/// The student of a teacher, planned from typed settings.
public struct DistillationPlan: Equatable, Sendable {
    /// The teacher's directory (or file) as the student's config names it.
    public var teacher: String
    /// The student's settings as typed, `key=value` (e.g. `n_layer=2`), applied in order.
    public var settings: [String]

    public init(teacher: String, settings: [String]) {
        self.teacher = teacher
        self.settings = settings
    }

    /// The loss weights and start the Compress screen offers first: those of the shipped student
    /// recipe (`configs/shakespeare-char-student.toml`).
    public static let defaultAlpha = 0.5
    public static let defaultTemperature = 2.0
    public static let defaultStudentInit = StudentInit.teacherLayers

    /// The student's default depth for a teacher of `layers` blocks: half of them (at least one).
    public static func defaultLayers(teacher layers: Int) -> Int { max(1, layers / 2) }

    /// Settings fixed for every pass before the typed ones: a fresh student of this teacher, no dropout,
    /// the plain forward-KL loss without the hidden-state term, one checkpoint at the end.
    var fixedSettings: [String] {
        ["teacher=\(teacher)", "init_from=scratch", "dropout=0", "checkpoint_interval=0", "distill_loss=forward_kl",
         "distill_hidden_weight=0"]
    }

    /// Settings that follow the step count (so a short pass still warms up, decays and estimates): a
    /// warm-up of at most a tenth of the steps, the decay ending at the last step, four loss estimates.
    static func scheduleSettings(_ config: TrainingConfig) -> [String] {
        let steps = config.maxIterations
        return ["warmup_iters=\(min(config.warmupIterations, steps / 10))", "lr_decay_iters=none",
                "eval_interval=\(max(1, steps / 4))"]
    }

    /// The teacher's config with everything the pass sets, and those settings in the order applied.
    func applied(to base: TrainingConfig) throws -> (config: TrainingConfig, overrides: [String]) {
        var config = base
        for setting in fixedSettings + settings { try Self.apply(setting, to: &config) }
        let schedule = Self.scheduleSettings(config)
        for setting in schedule { try Self.apply(setting, to: &config) }
        return (config, fixedSettings + settings + schedule)
    }

    /// Sets one `key=value` through the key table (its type checks, with messages naming the form).
    static func apply(_ setting: String, to config: inout TrainingConfig) throws {
        try config.apply(override: setting, source: "the distil form")
    }

    /// The student's training config and what it makes, or the first thing wrong with the settings
    /// (the key table's and `validate()`'s messages, and the teacher's shape rules for `teacher_layers`).
    /// - Parameters:
    ///   - base: the teacher's training config (its `config.toml`: text, context, batch, optimiser).
    ///   - teacherModel: the teacher's model shape; `teacherIsFloat`: whether its weights are fp32.
    public func predict(base: TrainingConfig, teacherModel: ModelConfig, teacherIsFloat: Bool) throws -> DistillationPrediction {
        let (config, overrides) = try applied(to: base)
        try config.validate()
        let student = config.modelConfig(vocabularySize: teacherModel.vocabularySize)
        guard config.contextLength <= teacherModel.contextLength else {
            throw WhittleError.config("block_size = \(config.contextLength) is longer than the teacher's context (\(teacherModel.contextLength))",
                                      hint: "the teacher's config.toml trains longer windows than the teacher reads; distil with `whittle distill`")
        }
        if config.studentInit == .teacherLayers {
            guard teacherIsFloat else {
                throw WhittleError.config("student init teacher_layers copies fp32 weights; \(teacher) is quantized",
                                          hint: "choose student init scratch, or the fp32 model the variant was made from")
            }
            try Teacher.checkCopyable(student: student, teacher: teacherModel)
        }
        let layout = ParameterLayout(student.dimensions)
        let file = try SafetensorsWriter.fileBytes(ModelDirectory.denseDescriptors(layout), metadata: ModelDirectory.denseMetadata)
        let tokensPerStep = config.batchSize * config.contextLength * config.gradientAccumulationSteps
        return DistillationPrediction(config: config, overrides: overrides, model: student, parameterCount: layout.totalCount,
                                      fileBytes: file, memoryBytes: 4 * layout.totalCount, steps: config.maxIterations,
                                      tokensPerStep: tokensPerStep, estimatedSeconds: config.estimatedSeconds(model: student))
    }
}

/// What a distillation pass will make, predicted before it trains.
public struct DistillationPrediction: Equatable, Sendable {
    /// The student's training config (the teacher's config with `overrides` applied).
    public var config: TrainingConfig
    public var overrides: [String]
    /// The student's model shape.
    public var model: ModelConfig
    public var parameterCount: Int
    /// Bytes of the student's `model.safetensors` (fp32, as published).
    public var fileBytes: Int
    /// Bytes the student's weights take in memory (fp32).
    public var memoryBytes: Int
    public var steps: Int
    public var tokensPerStep: Int
    /// The student's training alone at the assumed FLOP rate (the teacher's forward passes come on top).
    public var estimatedSeconds: Double

    /// Tokens the student trains on: steps × tokens per step.
    public var tokens: Int { steps * tokensPerStep }
    /// fp32 weights.
    public var bitsPerWeight: Double { 32 }
}
