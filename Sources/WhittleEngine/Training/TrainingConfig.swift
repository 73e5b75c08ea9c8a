// Everything a training run needs besides the data: model shape, optimisation settings,
// schedule, evaluation and checkpoint cadence. Keys follow nanoGPT's names in config files.
// A new setting needs a field here and one line in the key table (`TrainingConfig+Keys.swift`),
// plus a range check in `TrainingConfig+Validation.swift`.

/// A complete description of a training run. Defaults are nanoGPT's CPU Shakespeare recipe.
public struct TrainingConfig: Equatable, Codable, Sendable {
    // Model (vocabulary size comes from the tokenizer).
    public var layerCount = 4                  // n_layer
    public var headCount = 4                   // n_head
    public var embeddingWidth = 128            // n_embd
    public var contextLength = 64              // block_size
    public var hasBias = true                  // bias
    public var dropout: Float = 0              // dropout

    // Data.
    /// "scratch" (random GPT-2 initialisation) or a model directory whose weights and tokenizer start the run.
    public var initFrom = "scratch"            // init_from
    public var datasetPath = "datasets/tinyshakespeare.txt"  // dataset
    public var validationFraction = 0.1        // val_fraction (nanoGPT: last 10% is validation)

    // Optimisation.
    public var batchSize = 12                  // batch_size
    public var gradientAccumulationSteps = 1   // gradient_accumulation_steps
    public var maxIterations = 2000            // max_iters
    public var learningRate: Float = 1e-3      // learning_rate
    public var minLearningRate: Float = 1e-4   // min_lr
    public var warmupIterations = 100          // warmup_iters
    public var decayIterations: Int? = nil     // lr_decay_iters (nil: max_iters)
    public var schedule = LearningRateSchedule.Kind.cosine  // schedule
    public var optimizer = OptimizerKind.adamw  // optimizer
    public var momentum: Float = 0.9           // momentum (SGD momentum / Nesterov)
    public var beta1: Float = 0.9              // beta1
    public var beta2: Float = 0.99             // beta2
    public var epsilon: Float = 1e-8           // eps
    public var weightDecay: Float = 0.1        // weight_decay
    public var gradientClip: Float = 1.0       // grad_clip (0 disables)

    // Evaluation, logging and checkpoints.
    public var evalInterval = 250              // eval_interval
    public var evalIterations = 20             // eval_iters (batches per periodic estimate)
    public var checkpointInterval = 500        // checkpoint_interval (0: only at the end)
    public var earlyStoppingPatience = 0       // early_stopping_patience (evaluations without improvement; 0: off)
    public var seed: UInt64 = 1337             // seed

    // Execution.
    public var workers = 2                     // workers (data-parallel threads, each with its own activations)
    public var blasThreads = 1                 // blas_threads (OpenBLAS threads per matmul call)
    /// "false", "true" (recompute every block in backward) or "every-K" (every K-th block).
    public var checkpointing = "false"         // checkpointing
    /// Storage format of activations and matmul inputs; weights, gradients and optimizer state stay fp32.
    public var precision = Precision.fp32       // precision
    /// Dynamic loss scaling for fp16 runs (PyTorch GradScaler semantics); bf16 and fp32 never scale.
    public var lossScaling = true               // loss_scaling

    // Distillation (`TrainingConfig+Distillation.swift`): a teacher other than "none" makes it a distillation run.
    public var teacher = "none"                 // teacher
    public var distillAlpha: Float = 0.5        // distill_alpha
    public var distillTemperature: Float = 2    // distill_temperature
    public var distillLoss = DistillationDirection.forwardKL  // distill_loss
    public var distillHiddenWeight: Float = 0   // distill_hidden_weight
    public var studentInit = StudentInit.scratch  // student_init

    public init() {}

    /// The model shape this run trains, given the tokenizer's vocabulary size.
    public func modelConfig(vocabularySize: Int) -> ModelConfig {
        ModelConfig(layerCount: layerCount, headCount: headCount, embeddingWidth: embeddingWidth,
                    contextLength: contextLength, vocabularySize: vocabularySize, hasBias: hasBias)
    }

    /// The optimizer's hyperparameters at learning rate `learningRate` (the schedule's value).
    public func optimizerHyperparameters(learningRate: Float) -> OptimizerHyperparameters {
        OptimizerHyperparameters(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                                 weightDecay: weightDecay, momentum: momentum)
    }

    /// Iterations over which the learning rate decays (nanoGPT's `lr_decay_iters`).
    public var effectiveDecayIterations: Int { decayIterations ?? maxIterations }
}
