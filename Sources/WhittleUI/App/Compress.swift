// The Compress screen's model: the model a pass starts from (and what the engine read of it), the
// pass's settings — a quantization type for the matrices, one for the token embedding, a rounding
// method with its calibration samples, or a target bits per weight that picks the type — the
// prediction of what the plan makes (weights bytes, bits per weight, GGUF file size) computed before
// anything runs, the output directory, and the running pass's progress. With a sensitivity scan the
// plan can also be chosen tensor by tensor on the map (tensors × types, KLD to the base), and a
// target picks the least-KLD plan within it. A prune pass has rows of its own (method, sparsity,
// N:M pattern, structured heads or neurons; `Compress+Prune.swift`), so has a distil pass (the
// student's shape, start, alpha, temperature and steps; `Compress+Distil.swift`), and each pass shows
// only its rows.

import WhittleEngine

/// The kinds of pass the screen can apply.
public enum CompressPass: String, CaseIterable, Equatable, Sendable {
    case quantize
    case prune
    case distil
}

/// A quantization pass as the screen asks the host to run it.
public struct QuantizeRequest: Equatable, Sendable {
    public var basePath: String
    public var method: RoundingMethod
    public var plan: QuantizationPlan
    /// Calibration windows from the base's train split (methods that need them).
    public var calibrationSamples: Int
    /// A plan chosen for a size on a sensitivity map: the map and the size (stored with the variant).
    public var sensitivity: SensitivityMap?
    public var targetBitsPerWeight: Double?
    public var output: String

    public init(basePath: String, method: RoundingMethod, plan: QuantizationPlan,
                calibrationSamples: Int = Quantizer.Calibration.defaultSamples, sensitivity: SensitivityMap? = nil,
                targetBitsPerWeight: Double? = nil, output: String) {
        self.basePath = basePath
        self.method = method
        self.plan = plan
        self.calibrationSamples = calibrationSamples
        self.sensitivity = sensitivity
        self.targetBitsPerWeight = targetBitsPerWeight
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
        case model, pass, type, embedding, method, pruneMethod, sparsity, pattern, structure, samples, target, output, map
        case studentLayers, studentWidth, studentHeads, studentInit, alpha, temperature, steps

        public var label: String {
            switch self {
            case .model: "model"
            case .pass: "pass"
            case .type: "type"
            case .embedding: "embedding"
            case .method, .pruneMethod: "method"
            case .sparsity: "sparsity"
            case .pattern: "pattern"
            case .structure: "structured"
            case .samples: "calibration"
            case .target: "target bpw"
            case .output: "output"
            case .map: "plan map"
            case .studentLayers: "layers"
            case .studentWidth: "width"
            case .studentHeads: "heads"
            case .studentInit: "student init"
            case .alpha: "alpha"
            case .temperature: "temperature"
            case .steps: "steps"
            }
        }

        /// Whether the field takes typed characters (the others change with ←/→ or Enter).
        public func accepts(_ c: Character) -> Bool {
            switch self {
            case .samples, .studentLayers, .studentWidth, .studentHeads, .steps: c.isNumber
            case .target, .sparsity, .alpha, .temperature: c.isNumber || c == "."
            case .output: !c.isNewline && c != "\t"
            default: false
            }
        }
    }

    public var focus: Field = .type
    /// The rows of the chosen pass, in Tab order.
    public var fields: [Field] {
        switch pass {
        case .quantize: [.model, .pass, .type, .embedding, .method, .samples, .target, .output, .map]
        case .prune: [.model, .pass, .pruneMethod, .sparsity, .pattern, .structure, .samples, .output]
        case .distil: [.model, .pass, .studentLayers, .studentWidth, .studentHeads, .studentInit, .alpha, .temperature, .steps, .output]
        }
    }
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
    /// The prune pass's rows: how weights are scored, the fraction removed (of each matrix, or of each
    /// block's heads / neurons), an N:M pattern (which fixes the fraction) and whole units.
    public var pruneMethod: PruningMethod = .wanda
    public var sparsity = TextField("0.5")
    public var pattern: SparsityPattern?
    public var structure: PruningPlan.StructuredUnit?
    /// The distil pass's rows (the student; defaults follow the teacher read on the model row).
    public var distil = DistilForm()
    /// The output was typed (otherwise it follows the model and type).
    public var outputEdited = false
    public var status: PassStatus = .idle
    /// Why the form cannot apply (shown under it), or nil.
    public var error: String?
    /// The sensitivity scan of `model` (tensors × types → KLD), its progress, and the plan chosen on it
    /// cell by cell (one type per map row; nil: the type and embedding rows decide).
    public var sensitivity: SensitivityMap?
    public var scan: PassStatus = .idle
    public var assignment: SensitivityMap.Assignment?
    /// The map's cursor: a row (tensor) and a column (index into `mapFormats`).
    public var mapRow = 0
    public var mapColumn = 0

    public init() {}

    /// The map's columns: f32, then the scanned types from most to fewest bits.
    public var mapFormats: [WeightFormat] {
        guard let map = sensitivity else { return [] }
        return [.f32] + map.formats.sorted { $0.bitsPerWeight > $1.bitsPerWeight }
    }

    /// The plan the form describes: the map's assignment when one was chosen, else the type rows'.
    public var plan: QuantizationPlan {
        if let map = sensitivity, let assignment { return map.quantizationPlan(assignment) }
        return QuantizationPlan(defaultFormat: type, embeddingFormat: embedding)
    }

    /// The plan as one type per map row (the assignment, or what the type rows give each tensor).
    public var currentAssignment: SensitivityMap.Assignment? {
        guard let map = sensitivity else { return nil }
        if let assignment { return assignment }
        return map.assignment { $0 == "wte.weight" ? embedding : type }
    }

    /// The map's predicted KLD of the current plan (per-tensor KLDs added), when a scan exists.
    public var predictedDivergence: Double? {
        guard let map = sensitivity, let assignment = currentAssignment else { return nil }
        return map.predictedDivergence(assignment)
    }

    /// The variant directory a pass writes unless the user typed one: variants/<model>-<type>.
    public var defaultOutput: String {
        guard let model else { return "" }
        let name = model.split(separator: "/").last.map(String.init) ?? model
        if pass == .prune { return "variants/\(name)-\(pruneOutputSuffix)" }
        if pass == .distil { return "runs/\(name)-\(distilOutputSuffix)" }
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
        let target = assignment == nil ? nil : Double(self.target.text)
        return .success(QuantizeRequest(basePath: model, method: method, plan: plan, calibrationSamples: max(samples, 1),
                                        sensitivity: target == nil ? nil : sensitivity, targetBitsPerWeight: target,
                                        output: out))
    }
}
