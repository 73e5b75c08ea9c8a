// Compressing a run's live model between two steps ("compress mid-training and continue"): what a
// prune-now or quantize-now request asks for, and the event either records. Pruning changes the run
// (the weights are zeroed and the mask kept from then on); quantizing only measures — the fp32 master
// is rounded into a separate store, scored against itself on the validation split, and training goes
// on from the untouched master. The event is one line of the run's log.jsonl (`"event": "prune"` or
// `"quantize"`), which step readers skip, and the charts' marker.

/// Prune the run's current weights at the next step boundary (single weights, or an N:M pattern).
public struct PruneNowRequest: Equatable, Sendable {
    /// Unstructured only: structured pruning would change the model's shape, which a run keeps.
    public var plan: PruningPlan
    /// Calibration windows drawn from the run's own train split (Wanda and SparseGPT).
    public var calibrationSamples: Int
    public var calibrationSeed: UInt64
    /// Validation windows (from the split's start) the loss before and after is measured on.
    public var evaluationWindows: Int

    public static let defaultCalibrationSamples = 32
    public static let defaultEvaluationWindows = 64

    public init(plan: PruningPlan, calibrationSamples: Int = defaultCalibrationSamples, calibrationSeed: UInt64 = 1,
                evaluationWindows: Int = defaultEvaluationWindows) {
        self.plan = plan
        self.calibrationSamples = calibrationSamples
        self.calibrationSeed = calibrationSeed
        self.evaluationWindows = evaluationWindows
    }

    /// "wanda 50%", "magnitude 2:4".
    public var summary: String {
        "\(plan.method.rawValue) " + (plan.pattern.map(\.description) ?? "\(Int((plan.sparsity * 100).rounded()))%")
    }
}

/// Round the run's fp32 master to a quantization plan, evaluate it against the master, and go on training.
public struct QuantizeNowRequest: Equatable, Sendable {
    public var plan: QuantizationPlan
    public var method: RoundingMethod
    public var calibrationSamples: Int
    public var calibrationSeed: UInt64
    public var evaluationWindows: Int
    /// Also publish the rounded weights as a variant (see `Publication`); nil: measure only.
    public var publish: Publication?

    /// Where a quantize-now publishes its variant: a checkpoint of the step is saved first (the
    /// variant's base, so its lineage names real weights), then quantized as `whittle quantize` does
    /// into `root/<run>-step<N>-<type>-<method>`.
    public struct Publication: Equatable, Sendable {
        public var root: String
        public var whittleVersion: String
        public init(root: String, whittleVersion: String) {
            self.root = root
            self.whittleVersion = whittleVersion
        }
    }

    public init(plan: QuantizationPlan, method: RoundingMethod = .rtn,
                calibrationSamples: Int = PruneNowRequest.defaultCalibrationSamples, calibrationSeed: UInt64 = 1,
                evaluationWindows: Int = PruneNowRequest.defaultEvaluationWindows, publish: Publication? = nil) {
        self.publish = publish
        self.plan = plan
        self.method = method
        self.calibrationSamples = calibrationSamples
        self.calibrationSeed = calibrationSeed
        self.evaluationWindows = evaluationWindows
    }

    /// "q4_0 rtn".
    public var summary: String { "\(plan.defaultFormat.rawValue) \(method.rawValue)" }
}

/// What a prune-now or quantize-now did, measured on the same validation windows before and after.
public struct CompressionEvent: Equatable, Sendable, Codable {
    public enum Kind: String, Equatable, Sendable, Codable {
        case prune, quantize
    }

    public var kind: Kind
    /// Optimizer steps completed when it happened (the marker sits after this step).
    public var step: Int
    /// Training seconds elapsed then (the charts' time axis).
    public var seconds: Double
    /// The request in words ("wanda 50%", "q4_0 rtn").
    public var settings: String
    /// Mean validation loss of the fp32 weights before, and of the pruned / quantized weights.
    public var lossBefore: Double
    public var lossAfter: Double
    /// Standard error of the per-window loss change.
    public var lossChangeStandardError: Double
    /// Mean KL divergence of the compressed weights' predictions from the fp32 ones, per token (nats).
    public var divergence: Double
    /// Share of positions where both pick the same most likely token.
    public var agreement: Double
    /// Positions scored.
    public var tokens: Int
    /// Prune: the fraction of the masked tensors' weights now zero (earlier masks included).
    public var sparsity: Double?
    /// Quantize: bits per weight of the rounded model (every parameter counted).
    public var bitsPerWeight: Double?
    /// Wall seconds the measurement (and pruning) took.
    public var wallSeconds: Double
    /// Quantize with publishing: the variant directory written.
    public var variant: String?

    public var lossChange: Double { lossAfter - lossBefore }

    public init(kind: Kind, step: Int, seconds: Double, settings: String, lossBefore: Double, lossAfter: Double,
                lossChangeStandardError: Double, divergence: Double, agreement: Double, tokens: Int,
                sparsity: Double? = nil, bitsPerWeight: Double? = nil, wallSeconds: Double) {
        self.kind = kind
        self.step = step
        self.seconds = seconds
        self.settings = settings
        self.lossBefore = lossBefore
        self.lossAfter = lossAfter
        self.lossChangeStandardError = lossChangeStandardError
        self.divergence = divergence
        self.agreement = agreement
        self.tokens = tokens
        self.sparsity = sparsity
        self.bitsPerWeight = bitsPerWeight
        self.wallSeconds = wallSeconds
    }

    enum CodingKeys: String, CodingKey {
        case kind = "event", step, seconds, settings, lossBefore = "loss_before", lossAfter = "loss_after",
             lossChangeStandardError = "loss_change_stderr", divergence = "kld", agreement, tokens, sparsity,
             bitsPerWeight = "bpw", wallSeconds = "wall_s", variant
    }

    /// One line for a status bar: "step 120: pruned wanda 50% — val loss 1.912 → 2.301 (+0.389), KLD 0.412".
    public var sentence: String {
        let verb = kind == .prune ? "pruned" : "quantized"
        let change = (lossChange >= 0 ? "+" : "") + String(format: "%.3f", lossChange)
        var text = "step \(step): \(verb) \(settings) — val loss " + String(format: "%.3f → %.3f", lossBefore, lossAfter)
            + " (\(change)), KLD " + String(format: "%.4f", divergence)
        if let sparsity { text += ", \(Int((sparsity * 100).rounded()))% zero" }
        if let bitsPerWeight { text += ", " + String(format: "%.2f", bitsPerWeight) + " bpw" }
        if let variant { text += "; published \(variant)" }
        if kind == .quantize { text += "; training continues in fp32" }
        return text
    }
}
