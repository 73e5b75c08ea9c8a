// Range and consistency checks for a training configuration, run once all files and overrides are
// applied and before anything is allocated. Each message names the config key, says what is
// allowed and shows the value given, e.g. "learning_rate must be a finite number ≥ 0 (got nan)".
// Float checks are written so that NaN fails them (every comparison with NaN is false).
// Optimizer ranges follow PyTorch's Adam argument checks (per optimizer: `OptimizerKind.problem(with:)`); shape rules reuse `ModelConfig.validate()`.

extension TrainingConfig {
    /// Largest accepted iteration count; keeps `step + 1` and schedule arithmetic far from overflow.
    public static let iterationLimit = 1_000_000_000_000
    /// Largest accepted thread count.
    public static let threadLimit = 64

    /// Throws a `WhittleError.config` naming the first field that is out of range or inconsistent.
    public func validate() throws {
        // Shape: n_layer, n_head, n_embd, block_size ≥ 1 and n_embd divisible by n_head.
        try modelConfig(vocabularySize: 1).validate()
        try check(dropout >= 0 && dropout < 1, "dropout must be in [0, 1) (got \(dropout))",
                  hint: "0 disables dropout, the usual choice for small CPU runs")

        try check(!datasetPath.trimmingWhitespace().isEmpty, "dataset must name a text file (got an empty path)",
                  hint: "for example dataset = \"datasets/tinyshakespeare.txt\"")
        try check(validationFraction > 0 && validationFraction < 1,
                  "val_fraction must be strictly between 0 and 1 (got \(validationFraction))", hint: "nanoGPT holds out 0.1")

        try validateOptimisation()

        try atLeast(evalInterval, 1, "eval_interval")
        try atLeast(evalIterations, 1, "eval_iters")
        try atLeast(checkpointInterval, 0, "checkpoint_interval", hint: "0 writes a checkpoint only at the end")
        try atLeast(earlyStoppingPatience, 0, "early_stopping_patience", hint: "0 turns early stopping off")
        try check(seed <= UInt64(Int64.max), "seed must be at most \(Int64.max) so config files can store it (got \(seed))")
        try check((1...Self.threadLimit).contains(workers),
                  "workers must be between 1 and \(Self.threadLimit) (got \(workers))",
                  hint: "use at most the number of cores")
        try check(workers <= batchSize, "workers (\(workers)) cannot exceed batch_size (\(batchSize)): each worker needs at least one sequence",
                  hint: "lower workers or raise batch_size")
        try check((1...Self.threadLimit).contains(blasThreads),
                  "blas_threads must be between 1 and \(Self.threadLimit) (got \(blasThreads))",
                  hint: "use at most the number of cores")
        try validateCheckpointing()
        try validateDistillation()
    }

    private func validateOptimisation() throws {
        try atLeast(batchSize, 1, "batch_size", limit: ModelConfig.dimensionLimit)
        try atLeast(gradientAccumulationSteps, 1, "gradient_accumulation_steps", limit: ModelConfig.dimensionLimit)
        try atLeast(maxIterations, 1, "max_iters", limit: Self.iterationLimit)
        try atLeast(warmupIterations, 0, "warmup_iters", limit: Self.iterationLimit)
        if let decayIterations {
            try atLeast(decayIterations, warmupIterations, "lr_decay_iters", limit: Self.iterationLimit,
                        what: "warmup_iters (\(warmupIterations))",
                        hint: "decay starts after warmup; leave lr_decay_iters out to decay until max_iters")
        }

        try nonNegative(learningRate, "learning_rate")
        try nonNegative(minLearningRate, "min_lr")
        try check(minLearningRate <= learningRate,
                  "min_lr (\(minLearningRate)) must not exceed learning_rate (\(learningRate))",
                  hint: "nanoGPT uses min_lr = learning_rate / 10")
        try unitInterval(beta1, "beta1")
        try unitInterval(beta2, "beta2")
        try check(epsilon.isFinite && epsilon > 0, "eps must be a finite number > 0 (got \(epsilon))", hint: "AdamW's usual value is 1e-8")
        try nonNegative(weightDecay, "weight_decay")
        try nonNegative(gradientClip, "grad_clip", hint: "0 disables clipping")
        try unitInterval(momentum, "momentum", hint: "the usual value is 0.9")
        if let problem = optimizer.problem(with: optimizerHyperparameters(learningRate: learningRate)) {
            throw WhittleError.config(problem.message, hint: problem.hint)
        }
    }

    private func check(_ condition: Bool, _ message: @autoclosure () -> String, hint: String = "") throws {
        guard condition else { throw WhittleError.config(message(), hint: hint) }
    }

    private func nonNegative(_ value: Float, _ name: String, hint: String = "") throws {
        try check(value.isFinite && value >= 0, "\(name) must be a finite number ≥ 0 (got \(value))", hint: hint)
    }

    private func unitInterval(_ value: Float, _ name: String,
                              hint: String = "AdamW's usual values are beta1 = 0.9 and beta2 = 0.95 to 0.999") throws {
        try check(value >= 0 && value < 1, "\(name) must be in [0, 1) (got \(value))", hint: hint)
    }

    private func atLeast(_ value: Int, _ minimum: Int, _ name: String, limit: Int = .max,
                         what: String? = nil, hint: String = "") throws {
        try check(value >= minimum, "\(name) must be at least \(what ?? String(minimum)) (got \(value))", hint: hint)
        try check(value <= limit, "\(name) = \(value) is larger than Whittle supports (\(limit))")
    }
}
