// What one training step measured: the unit of the run log, the charts and the progress line.

/// Metrics of one optimizer step (and, when it ran, the periodic evaluation after it).
public struct StepRecord: Equatable, Codable, Sendable {
    /// 1-based number of the optimizer step this record describes.
    public var step: Int
    public var loss: Float
    public var learningRate: Float
    public var gradientNorm: Float
    public var milliseconds: Double
    public var tokens: Int
    public var evaluation: LossEstimate?
    /// A health warning raised at this step (e.g. validation rising while training falls).
    public var warning: String?
    /// bf16/fp16 runs: nonzero gradient values that rounding to 16 bits flushed to zero in this step.
    public var flushedGradients: Int?
    /// fp16 runs with loss scaling: the scale the step's backward used.
    public var lossScale: Float?
    /// True when the loss scaler skipped the update because a gradient overflowed.
    public var skipped: Bool?
    /// Distillation runs (`loss` is then the whole objective): the cross-entropy term, KL at the
    /// temperature (before alpha·T²), and the mean 1 − cos of the final hidden states when weighted.
    public var crossEntropy: Float?
    public var divergence: Float?
    public var hiddenCosine: Float?

    public var tokensPerSecond: Double { milliseconds > 0 ? Double(tokens) / (milliseconds / 1000) : 0 }

    enum CodingKeys: String, CodingKey {
        case step, loss, learningRate = "lr", gradientNorm = "grad_norm", milliseconds = "ms", tokens, evaluation = "eval", warning,
             flushedGradients = "flushed", lossScale = "loss_scale", skipped, crossEntropy = "ce", divergence = "kl",
             hiddenCosine = "hidden_cos"
    }
}

/// Mean losses on random batches of each split (nanoGPT's `estimate_loss`).
public struct LossEstimate: Equatable, Codable, Sendable {
    public var train: Float
    public var validation: Float

    enum CodingKeys: String, CodingKey { case train, validation = "val" }
}
