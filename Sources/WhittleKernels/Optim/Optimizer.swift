// Every optimizer Whittle trains with, in one place: `OptimizerKind` lists them and answers, by an
// exhaustive switch, which settings each uses, how it validates them, how many state bytes it keeps
// per tensor and whose state it can inherit on a switch. `OptimizerState` (OptimizerState.swift)
// holds the state and runs a step; the update rules live beside it (SGD.swift, AdamW.swift,
// Lion.swift, Adafactor.swift, AdamW8bit.swift), each with a plain Swift reference where a C
// kernel does the work.
//
// Weight decay applies only to tensors with `decays` (≥ 2 dimensions), as nanoGPT does for AdamW;
// how it applies (coupled L2 in the gradient, or decoupled shrinkage) is the optimizer's.

/// The optimizers a run can use (config key `optimizer`).
public enum OptimizerKind: String, CaseIterable, Codable, Sendable {
    /// Plain SGD: p ← p − lr·(g + wd·p).
    case sgd
    /// SGD with heavy-ball momentum (torch.optim.SGD, dampening 0): b ← μ·b + (g + wd·p); p ← p − lr·b.
    case momentum
    /// SGD with Nesterov momentum (torch.optim.SGD nesterov=True): b as above; p ← p − lr·(g' + μ·b).
    case nesterov
    /// Adam with coupled L2 weight decay (torch.optim.Adam): g' = g + wd·p.
    case adam
    /// AdamW (torch.optim.AdamW): decoupled decay p ← p·(1 − lr·wd), then the Adam step.
    case adamw
    /// Lion (Chen et al. 2023): p ← p·(1 − lr·wd) − lr·sign(β1·m + (1−β1)·g); m ← β2·m + (1−β2)·g.
    case lion
    /// Adafactor (Shazeer & Stern 2018): factored second moment for matrices, no first moment,
    /// β2(t) = 1 − t^−0.8, ε1 = 1e-30, update clipping d = 1, the run's learning rate (no relative step).
    case adafactor
    /// AdamW with block-wise 8-bit moments (bitsandbytes' dynamic map); small tensors keep 32-bit state.
    case adamw8bit

    /// Name for tables and model cards.
    public var displayName: String {
        switch self {
        case .sgd: "SGD"
        case .momentum: "SGD with momentum"
        case .nesterov: "SGD with Nesterov momentum"
        case .adam: "Adam"
        case .adamw: "AdamW"
        case .lion: "Lion"
        case .adafactor: "Adafactor"
        case .adamw8bit: "8-bit AdamW"
        }
    }

    /// The hyperparameters this optimizer reads (learning rate and weight decay are read by all).
    public var settings: Set<OptimizerSetting> {
        switch self {
        case .sgd: [.learningRate, .weightDecay]
        case .momentum, .nesterov: [.learningRate, .weightDecay, .momentum]
        case .adam, .adamw, .adamw8bit: [.learningRate, .weightDecay, .beta1, .beta2, .epsilon]
        case .lion: [.learningRate, .weightDecay, .beta1, .beta2]
        case .adafactor: [.learningRate, .weightDecay]
        }
    }

    /// How weight decay enters the update.
    public var weightDecayStyle: WeightDecayStyle {
        switch self {
        case .sgd, .momentum, .nesterov, .adam: .coupled
        case .adamw, .lion, .adafactor, .adamw8bit: .decoupled
        }
    }

    /// Names of the state tensors kept per parameter tensor (`.` + the parameter's name follows each),
    /// as written to `optimizer.safetensors`.
    public var stateNames: [String] {
        switch self {
        case .sgd: []
        case .momentum, .nesterov: ["momentum_buffer"]
        case .adam, .adamw: ["m", "v"]
        case .lion: ["m"]
        case .adafactor: ["v_row", "v_col", "v"]
        case .adamw8bit: ["m", "v", "m_q", "m_absmax", "v_q", "v_max"]
        }
    }

    /// Exact bytes of optimizer state kept for `tensor`.
    public func stateBytes(for tensor: ParameterTensor) -> Int {
        let n = tensor.count, float = MemoryLayout<Float>.stride
        switch self {
        case .sgd: return 0
        case .momentum, .nesterov, .lion: return n * float
        case .adam, .adamw: return 2 * n * float
        case .adafactor:
            guard let (rows, columns) = Adafactor.factoredShape(tensor.shape) else { return n * float }
            return (rows + columns) * float
        case .adamw8bit:
            guard AdamW8bit.isQuantized(count: n) else { return 2 * n * float }
            let blocks = (n + AdamW8bit.blockSize - 1) / AdamW8bit.blockSize
            return 2 * n * MemoryLayout<UInt8>.stride + 2 * blocks * float
        }
    }

    /// Exact bytes of optimizer state for every tensor of `layout`.
    public func stateBytes(for layout: ParameterLayout) -> Int {
        layout.tensors.reduce(0) { $0 + stateBytes(for: $1) }
    }

    /// Whether switching from `other` to this optimizer can keep `other`'s state exactly: the state
    /// has the same meaning and the same precision. Adam ↔ AdamW keep m, v and the step count (only
    /// where the decay enters differs); momentum ↔ Nesterov keep the buffer. Every other switch,
    /// including AdamW ↔ 8-bit AdamW (different precision), starts from fresh state.
    public func inheritsState(from other: OptimizerKind) -> Bool {
        switch (other, self) {
        case (.adam, .adamw), (.adamw, .adam), (.momentum, .nesterov), (.nesterov, .momentum): true
        default: other == self
        }
    }

    /// The first problem with `h` for this optimizer (naming the config key), or nil when valid.
    /// Ranges follow torch.optim's checks: lr ≥ 0 finite, betas and momentum in [0, 1), eps > 0,
    /// weight decay ≥ 0; Nesterov needs momentum > 0 as in torch.optim.SGD.
    public func problem(with h: OptimizerHyperparameters) -> OptimizerSettingProblem? {
        func inUnitInterval(_ value: Float) -> Bool { value >= 0 && value < 1 }
        if !(h.learningRate.isFinite && h.learningRate >= 0) {
            return .init(field: "learning_rate", message: "learning_rate must be a finite number ≥ 0 (got \(h.learningRate))")
        }
        if !(h.weightDecay.isFinite && h.weightDecay >= 0) {
            return .init(field: "weight_decay", message: "weight_decay must be a finite number ≥ 0 (got \(h.weightDecay))")
        }
        let uses = settings
        if uses.contains(.beta1), !inUnitInterval(h.beta1) {
            return .init(field: "beta1", message: "beta1 must be in [0, 1) for \(displayName) (got \(h.beta1))",
                         hint: self == .lion ? "Lion's usual beta1 is 0.9" : "Adam's usual beta1 is 0.9")
        }
        if uses.contains(.beta2), !inUnitInterval(h.beta2) {
            return .init(field: "beta2", message: "beta2 must be in [0, 1) for \(displayName) (got \(h.beta2))",
                         hint: self == .lion ? "Lion's usual beta2 is 0.99" : "Adam's usual beta2 is 0.95 to 0.999")
        }
        if uses.contains(.epsilon), !(h.epsilon.isFinite && h.epsilon > 0) {
            return .init(field: "eps", message: "eps must be a finite number > 0 for \(displayName) (got \(h.epsilon))",
                         hint: "the usual value is 1e-8")
        }
        if uses.contains(.momentum), !inUnitInterval(h.momentum) {
            return .init(field: "momentum", message: "momentum must be in [0, 1) (got \(h.momentum))", hint: "the usual value is 0.9")
        }
        if self == .nesterov, !(h.momentum > 0) {
            return .init(field: "momentum", message: "Nesterov momentum needs momentum > 0 (got \(h.momentum))",
                         hint: "use optimizer = \"sgd\" for no momentum")
        }
        return nil
    }
}

/// A hyperparameter an optimizer may read.
public enum OptimizerSetting: String, Sendable, CaseIterable {
    case learningRate = "learning_rate", weightDecay = "weight_decay", beta1, beta2, epsilon = "eps", momentum
}

/// Coupled: wd·p is added to the gradient (L2 regularisation, torch SGD/Adam). Decoupled: the
/// weights shrink by lr·wd before the step (AdamW, Lion, Adafactor).
public enum WeightDecayStyle: String, Sendable { case coupled, decoupled }

/// Hyperparameters of one optimizer step (the config's values with the scheduled learning rate).
public struct OptimizerHyperparameters: Equatable, Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var momentum: Float

    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, momentum: Float = 0.9) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
    }

    public var adamW: AdamWSettings {
        AdamWSettings(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    }
}

/// An invalid hyperparameter: the config key, a message naming it, and a hint.
public struct OptimizerSettingProblem: Error, Equatable, Sendable {
    public var field: String
    public var message: String
    public var hint: String
    public init(field: String, message: String, hint: String = "") {
        self.field = field
        self.message = message
        self.hint = hint
    }
}
