// The Compress screen's model: the model a pass starts from (and what the engine read of it), the
// pass's settings — a quantization type for the matrices, one for the token embedding, a rounding
// method with its calibration samples, or a target bits per weight that picks the type — the
// prediction of what the plan makes (weights bytes, bits per weight, GGUF file size) computed before
// anything runs, the output directory, and the running pass's progress. Pruning and distillation
// passes join `CompressPass` when their engines land.

import WhittleEngine

/// The kinds of pass the screen can apply.
public enum CompressPass: String, CaseIterable, Equatable, Sendable {
    case quantize
}

/// A quantization pass as the screen asks the host to run it.
public struct QuantizeRequest: Equatable, Sendable {
    public var basePath: String
    public var method: RoundingMethod
    public var plan: QuantizationPlan
    /// Calibration windows from the base's train split (methods that need them).
    public var calibrationSamples: Int
    public var output: String

    public init(basePath: String, method: RoundingMethod, plan: QuantizationPlan,
                calibrationSamples: Int = Quantizer.Calibration.defaultSamples, output: String) {
        self.basePath = basePath
        self.method = method
        self.plan = plan
        self.calibrationSamples = calibrationSamples
        self.output = output
    }
}

/// Where a pass is.
public enum PassStatus: Equatable, Sendable {
    case idle
    /// Running: what the engine is doing and how far (0...1).
    case running(String, Double)
    /// Cancel asked; waiting for the engine to stop between tensors.
    case cancelling
    case finished(directory: String)
    case failed(String)
    case cancelled

    public var isBusy: Bool {
        switch self {
        case .running, .cancelling: true
        default: false
        }
    }
}

/// The Compress screen's state.
public struct CompressState: Equatable, Sendable {
    /// The form's rows in Tab order.
    public enum Field: Int, CaseIterable, Equatable, Sendable {
        case model, pass, type, embedding, method, samples, target, output

        public var label: String {
            switch self {
            case .model: "model"
            case .pass: "pass"
            case .type: "type"
            case .embedding: "embedding"
            case .method: "method"
            case .samples: "calibration"
            case .target: "target bpw"
            case .output: "output"
            }
        }

        /// Whether the field takes typed characters (the others change with ←/→ or Enter).
        public func accepts(_ c: Character) -> Bool {
            switch self {
            case .samples: c.isNumber
            case .target: c.isNumber || c == "."
            case .output: !c.isNewline && c != "\t"
            default: false
            }
        }
    }

    public var focus: Field = .type
    /// The model passes start from (a model, checkpoint, run or variant directory).
    public var model: String?
    /// What the engine read of `model`, or why it could not.
    public var inspection: ModelInspection?
    public var inspectionError: String?
    public var pass: CompressPass = .quantize
    public var type: WeightFormat = .q4_0
    public var embedding: WeightFormat = QuantizationPlan.defaultEmbeddingFormat
    public var method: RoundingMethod = .rtn
    /// Calibration windows for the calibrated methods.
    public var samples = TextField(String(Quantizer.Calibration.defaultSamples))
    /// A bits-per-weight budget; when set, `type` is the largest type that fits it.
    public var target = TextField()
    public var output = TextField()
    /// The output was typed (otherwise it follows the model and type).
    public var outputEdited = false
    public var status: PassStatus = .idle
    /// Why the form cannot apply (shown under it), or nil.
    public var error: String?

    public init() {}

    /// The plan the form describes.
    public var plan: QuantizationPlan { QuantizationPlan(defaultFormat: type, embeddingFormat: embedding) }

    /// The variant directory a pass writes unless the user typed one: variants/<model>-<type>.
    public var defaultOutput: String {
        guard let model else { return "" }
        let name = model.split(separator: "/").last.map(String.init) ?? model
        return "variants/\(name)-\(type.rawValue)" + (embedding == QuantizationPlan.defaultEmbeddingFormat ? "" : "-embd-\(embedding.rawValue)")
            + (method == .rtn ? "" : "-\(method.rawValue)")
    }

    /// What the plan makes of the inspected model, or why it cannot be applied to it.
    public var prediction: Result<QuantizationPrediction, FormError>? {
        guard let inspection else { return nil }
        let name = output.text.split(separator: "/").last.map(String.init) ?? output.text
        do {
            return .success(try plan.predict(config: inspection.config, tokenizer: inspection.tokenizer, name: name))
        } catch {
            return .failure(FormError(message: (error as? WhittleError)?.message ?? "\(error)"))
        }
    }

    /// The largest matrix type whose prediction stays within `bits` per weight (nil: none fits).
    public func type(fittingBits bits: Double) -> WeightFormat? {
        guard let inspection else { return nil }
        let layout = ParameterLayout(inspection.config.dimensions)
        let fitting = QuantizationPlan.storableFormats.compactMap { format -> (WeightFormat, Double)? in
            let plan = QuantizationPlan(defaultFormat: format, embeddingFormat: embedding)
            guard let predicted = try? plan.predict(layout: layout), predicted.bitsPerWeight <= bits else { return nil }
            return (format, predicted.bitsPerWeight)
        }
        return fitting.max { $0.1 < $1.1 }?.0
    }

    /// The request Apply sends, or what is wrong.
    public func request() -> Result<QuantizeRequest, FormError> {
        guard let model, let inspection else {
            return .failure(FormError(message: inspectionError ?? "choose a model first (Enter on the model row)"))
        }
        guard inspection.isFloat else {
            return .failure(FormError(message: "\(model) holds quantized weights (\(inspection.formatSummary)); passes start from fp32 weights"))
        }
        guard let samples = Int(samples.text), samples >= 1 || !method.needsCalibration else {
            return .failure(FormError(message: "\(method.rawValue) needs a number of calibration windows of at least 1"))
        }
        if case .failure(let error)? = prediction { return .failure(error) }
        let out = output.text.trimmingWhitespace()
        guard !out.isEmpty else { return .failure(FormError(message: "name the output directory")) }
        return .success(QuantizeRequest(basePath: model, method: method, plan: plan, calibrationSamples: max(samples, 1),
                                        output: out))
    }
}
