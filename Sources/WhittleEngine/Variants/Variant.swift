// A variant's lineage, `variant.json`: the base model and the SHA-256 of its weights file, every
// pass that made it with its parameters (`quantize`, `prune` and `distill` passes, in order from the base;
// calibration fields are there for the methods that need text, null otherwise), the per-tensor plan as stored, the
// weights file and its size, a slot for measured metrics, and the Whittle version and command line.
// Writing is `JSONValue` with members in a fixed order; reading is strict (`Variant+Reading.swift`).

/// The lineage and measurements of a compressed model directory (`variant.json`).
public struct Variant: Equatable, Sendable {
    /// The file's name in a variant directory.
    public static let fileName = "variant.json"
    /// `format` and `version` of the files this code writes.
    public static let formatName = "whittle-variant"
    public static let version = 1

    /// The model the variant was made from.
    public struct Base: Equatable, Sendable {
        /// The model directory (or file) as resolved when the variant was made.
        public var path: String
        /// Its weights file's name (`model.safetensors`) and that file's SHA-256 (lowercase hex).
        public var weightsFile: String
        public var sha256: String
        public init(path: String, weightsFile: String, sha256: String) {
            self.path = path
            self.weightsFile = weightsFile
            self.sha256 = sha256
        }
    }

    /// One compression step, with its parameters.
    public struct Pass: Equatable, Sendable {
        public enum Kind: String, Equatable, Sendable { case quantize, prune, distill }
        /// A quantize pass's method and plan, a prune pass's plan, or a distill pass's teacher and recipe.
        public enum Settings: Equatable, Sendable {
            case quantize(method: RoundingMethod, plan: QuantizationPlan)
            case prune(PruningPlan)
            case distill(DistillationPass)
        }
        public var settings: Settings
        /// Calibration text (a named split or file), its sample count and seed; nil without calibration.
        public var calibrationText: String?
        public var calibrationSamples: Int?
        public var calibrationSeed: UInt64?
        /// Quantize passes with `--target-bpw`: the size asked for and the KLD the sensitivity map predicted for the plan chosen.
        public var targetBitsPerWeight: Double?
        public var predictedDivergence: Double?

        public var kind: Kind {
            switch settings {
            case .quantize: .quantize
            case .prune: .prune
            case .distill: .distill
            }
        }

        /// A quantize pass.
        public init(method: RoundingMethod, plan: QuantizationPlan, calibrationText: String? = nil,
                    calibrationSamples: Int? = nil, calibrationSeed: UInt64? = nil, targetBitsPerWeight: Double? = nil,
                    predictedDivergence: Double? = nil) {
            self.init(settings: .quantize(method: method, plan: plan), calibrationText: calibrationText,
                      calibrationSamples: calibrationSamples, calibrationSeed: calibrationSeed)
            self.targetBitsPerWeight = targetBitsPerWeight
            self.predictedDivergence = predictedDivergence
        }

        public init(settings: Settings, calibrationText: String? = nil, calibrationSamples: Int? = nil, calibrationSeed: UInt64? = nil) {
            self.settings = settings
            self.calibrationText = calibrationText
            self.calibrationSamples = calibrationSamples
            self.calibrationSeed = calibrationSeed
        }

        /// The pass on one line: "quantize: rtn q4_0", "prune: method wanda, …", "distill: teacher …".
        public var line: String {
            switch settings {
            case .quantize(let method, let plan): "quantize: \(method.rawValue) \(plan.defaultFormat.rawValue)"
            case .prune(let plan): "prune: " + PruningText.settings(plan)
            case .distill(let recipe): "distill: " + recipe.settingsLine
            }
        }

        /// A prune pass's plan (nil for other kinds).
        public var pruning: PruningPlan? {
            if case .prune(let plan) = settings { return plan }
            return nil
        }

        /// A distill pass's teacher and recipe (nil for other kinds).
        public var distillation: DistillationPass? {
            if case .distill(let recipe) = settings { return recipe }
            return nil
        }
    }

    /// One tensor's stored format (the tensor by its Whittle name, `h.0.attn.c_attn.weight`).
    public struct PlanEntry: Equatable, Sendable {
        public var tensor: String
        public var format: WeightFormat
        public init(tensor: String, format: WeightFormat) {
            self.tensor = tensor
            self.format = format
        }
    }

    public var base: Base
    public var passes: [Pass]
    /// Every quantizable tensor (matrices and the token embedding) in layout order, with its format.
    public var plan: [PlanEntry]
    /// The weights file in the variant directory, its size on disk, and bits per parameter as stored
    /// (every tensor, scales included; file headers not).
    public var weightsFile: String
    public var weightsFileBytes: Int
    public var bitsPerWeight: Double
    /// Parameters of the model (every tensor).
    public var parameterCount: Int
    /// Measured figures (filled by evaluation: an object of named values), or `.null`.
    public var metrics: JSONValue
    /// The Whittle version and the command line that made the variant.
    public var whittleVersion: String
    public var command: String

    public init(base: Base, passes: [Pass], plan: [PlanEntry], weightsFile: String, weightsFileBytes: Int,
                bitsPerWeight: Double, parameterCount: Int, metrics: JSONValue = .null, whittleVersion: String, command: String) {
        self.base = base
        self.passes = passes
        self.plan = plan
        self.weightsFile = weightsFile
        self.weightsFileBytes = weightsFileBytes
        self.bitsPerWeight = bitsPerWeight
        self.parameterCount = parameterCount
        self.metrics = metrics
        self.whittleVersion = whittleVersion
        self.command = command
    }

    /// Counts of plan entries per format, most common first.
    public var formatCounts: [(format: WeightFormat, count: Int)] {
        var counts: [WeightFormat: Int] = [:]
        for entry in plan { counts[entry.format, default: 0] += 1 }
        return counts.map { ($0.key, $0.value) }.sorted { ($0.count, $1.format.rawValue) > ($1.count, $0.format.rawValue) }
    }

    /// `variant.json`'s text.
    public func json() -> String { jsonValue().serialized(indent: 2) + "\n" }

    /// `variant.json` as a value (for reports that embed it).
    public func jsonValue() -> JSONValue {
        func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
        let passes: [JSONValue] = self.passes.map { pass in
            let calibration: [JSONValue.Member] = [
                .init("calibration_text", optional(pass.calibrationText)),
                .init("calibration_samples", pass.calibrationSamples.map(JSONValue.int) ?? .null),
                .init("calibration_seed", pass.calibrationSeed.map { .number(String($0)) } ?? .null),
            ]
            switch pass.settings {
            case .quantize(let method, let plan):
                return .object([
                    .init("pass", .string(pass.kind.rawValue)),
                    .init("method", .string(method.rawValue)),
                    .init("type", .string(plan.defaultFormat.rawValue)),
                    .init("embedding_type", .string(plan.embeddingFormat.rawValue)),
                    .init("tensor_types", .object(plan.rules.map { .init($0.pattern, .string($0.format.rawValue)) })),
                ] + calibration + [
                    .init("target_bpw", pass.targetBitsPerWeight.map(JSONValue.double) ?? .null),
                    .init("predicted_kld", pass.predictedDivergence.map(JSONValue.double) ?? .null),
                ])
            case .prune(let plan):
                return .object([
                    .init("pass", .string(pass.kind.rawValue)),
                    .init("method", .string(plan.method.rawValue)),
                    .init("sparsity", .double(plan.sparsity)),
                    .init("pattern", plan.pattern.map { .string($0.description) } ?? .null),
                    .init("structured", plan.structured.map { .string($0.rawValue) } ?? .null),
                    .init("scope", .string(plan.scope.rawValue)),
                    .init("include_embedding", .bool(plan.includeEmbedding)),
                ] + calibration)
            case .distill(let recipe):
                return recipe.jsonValue()
            }
        }
        return .object([
            .init("format", .string(Self.formatName)),
            .init("version", .int(Self.version)),
            .init("base", .object([
                .init("path", .string(base.path)),
                .init("weights_file", .string(base.weightsFile)),
                .init("sha256", .string(base.sha256)),
            ])),
            .init("passes", .array(passes)),
            .init("weights", .object([
                .init("file", .string(weightsFile)),
                .init("bytes", .int(weightsFileBytes)),
                .init("bits_per_weight", .double(bitsPerWeight)),
                .init("parameters", .int(parameterCount)),
            ])),
            .init("plan", .object(plan.map { .init($0.tensor, .string($0.format.rawValue)) })),
            .init("metrics", metrics),
            .init("whittle", .object([
                .init("version", .string(whittleVersion)),
                .init("command", .string(command)),
            ])),
        ])
    }
}
