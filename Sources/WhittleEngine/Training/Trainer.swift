// The training loop for one run: sample a batch, forward, backward, clip, step AdamW; evaluate
// now and then. Synchronous and silent: the caller (CLI or TUI session) drives it step by step.

import Foundation

/// A training run in memory: model, optimizer state, data cursor (generators) and history.
public final class Trainer: @unchecked Sendable {
    public private(set) var config: TrainingConfig
    public let model: GPTModel
    public let tokenizer: CharTokenizer
    public let data: TokenSplits
    /// Completed optimizer steps.
    public internal(set) var step = 0
    public internal(set) var history: [StepRecord] = []

    let gradients: FloatBuffer
    let firstMoment: FloatBuffer
    let secondMoment: FloatBuffer
    let arena: ActivationArena
    /// Draws training batch positions; its state is the data cursor.
    var dataGenerator: RandomGenerator
    /// Draws the batches of periodic loss estimates, separately so evaluation never shifts training data.
    var evaluationGenerator: RandomGenerator

    /// Starts a new run: validates the config, initialises the model from `config.seed`.
    public init(config: TrainingConfig, tokenizer: CharTokenizer, data: TokenSplits) throws {
        try config.validate()
        try TokenSplits.checkLongEnough(data, contextLength: config.contextLength)
        var initGenerator = RandomGenerator(seed: config.seed)
        let model = try GPTModel.initialized(config: config.modelConfig(vocabularySize: tokenizer.vocabularySize),
                                             generator: &initGenerator)
        self.config = config
        self.model = model
        self.tokenizer = tokenizer
        self.data = data
        gradients = FloatBuffer(count: model.parameterCount)
        firstMoment = FloatBuffer(count: model.parameterCount)
        secondMoment = FloatBuffer(count: model.parameterCount)
        arena = ActivationArena(dimensions: model.config.dimensions, B: config.batchSize, T: config.contextLength)
        dataGenerator = RandomGenerator(seed: config.seed &+ 1)
        evaluationGenerator = RandomGenerator(seed: config.seed &+ 2)
        BLAS.setThreadCount(config.threads)
    }

    /// Whether the run has reached `max_iters`.
    public var isFinished: Bool { step >= config.maxIterations }

    /// Runs one optimizer step (with gradient accumulation) and, on evaluation steps, a loss estimate.
    /// Throws `.numeric` without touching the weights if the loss or a gradient is not finite.
    @discardableResult
    public func trainStep() throws -> StepRecord {
        let start = DispatchTime.now().uptimeNanoseconds
        let micro = config.gradientAccumulationSteps
        gradients.zero()
        var lossSum: Double = 0
        for _ in 0..<micro {
            sampleBatch(from: data.train, into: arena, generator: &dataGenerator)
            let loss = GPT.forward(parameters: model.parameters.pointer, layout: model.layout, arena: arena,
                                   withTargets: true)!
            lossSum += Double(loss)
            GPT.backward(parameters: model.parameters.pointer, gradients: gradients.pointer, layout: model.layout,
                         arena: arena, lossScale: 1 / Float(micro))
        }
        let loss = Float(lossSum / Double(micro))
        let norm = GradientClipping.clip(gradients.pointer, count: gradients.count, maxNorm: config.gradientClip)
        guard loss.isFinite, norm.isFinite else {
            let culprit = model.firstNonFiniteTensor(in: gradients).map { " (first non-finite gradient: \($0))" } ?? ""
            throw WhittleError(.numeric, "step \(step + 1): the loss or gradient is not finite (loss \(loss), gradient norm \(norm))\(culprit); the weights were not updated",
                               hint: "lower learning_rate or enable grad_clip, then resume from the last checkpoint")
        }
        let rate = LearningRateSchedule(config).rate(at: step)
        applyAdamW(learningRate: rate)
        step += 1
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        var record = StepRecord(step: step, loss: loss, learningRate: rate, gradientNorm: Float(norm),
                                milliseconds: elapsed, tokens: micro * config.batchSize * config.contextLength)
        if step % config.evalInterval == 0 || step == config.maxIterations {
            record.evaluation = estimateLoss()
        }
        history.append(record)
        return record
    }

    func applyAdamW(learningRate: Float) {
        let settings = AdamWSettings(learningRate: learningRate, beta1: config.beta1, beta2: config.beta2,
                                     epsilon: config.epsilon, weightDecay: config.weightDecay)
        for tensor in model.layout.tensors {
            let o = tensor.offset
            AdamW.update(parameters: model.parameters.pointer + o, gradients: gradients.pointer + o,
                         m: firstMoment.pointer + o, v: secondMoment.pointer + o, count: tensor.count,
                         settings: settings, step: step + 1, decays: tensor.decays)
        }
    }

    /// Mean loss over `eval_iters` random batches of each split (nanoGPT's estimate_loss).
    public func estimateLoss() -> LossEstimate {
        func mean(_ split: [Int32]) -> Float {
            var total: Double = 0
            for _ in 0..<config.evalIterations {
                sampleBatch(from: split, into: arena, generator: &evaluationGenerator)
                total += Double(GPT.forward(parameters: model.parameters.pointer, layout: model.layout,
                                            arena: arena, withTargets: true)!)
            }
            return Float(total / Double(config.evalIterations))
        }
        return LossEstimate(train: mean(data.train), validation: mean(data.validation))
    }

    /// Changes a hyperparameter between steps (live edits); the new config is validated first.
    public func update(_ change: (inout TrainingConfig) -> Void) throws {
        var candidate = config
        change(&candidate)
        try candidate.validate()
        guard candidate.modelConfig(vocabularySize: tokenizer.vocabularySize) == model.config,
              candidate.batchSize == config.batchSize else {
            throw WhittleError.config("the model shape and batch size cannot change during a run",
                                      hint: "start a new run with the new shape")
        }
        config = candidate
    }
}

/// Fills the arena's tokens and targets with `B` random windows of `T + 1` tokens (nanoGPT's get_batch).
func sampleBatch(from tokens: [Int32], into arena: ActivationArena, generator: inout RandomGenerator) {
    let B = arena.B, T = arena.T
    tokens.withUnsafeBufferPointer { source in
        for b in 0..<B {
            let start = generator.nextInt(below: source.count - T)
            for t in 0..<T {
                arena.tokens[b * T + t] = source[start + t]
                arena.targets[b * T + t] = source[start + t + 1]
            }
        }
    }
}
