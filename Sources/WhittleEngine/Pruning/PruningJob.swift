// Making a pruned variant (`whittle prune`): load the fp32 base, collect calibration statistics
// from its train split when the method needs them, prune (single weights with `Pruner`, whole heads
// or neurons with `StructuredPruner`), and publish the variant directory atomically: config.json,
// the weights (`model.sparse.safetensors` for single weights: bitmap + kept values; a plain, smaller
// `model.safetensors` for structured), tokenizer.json, `variant.json`, the model card and the base's
// `config.toml`. A base that is itself a variant passes its lineage on: `base` stays the original
// model and the new pass is appended to its passes. An error or a cancel leaves nothing under --out.

import Foundation

public enum PruningJob {
    public enum Progress: Equatable, Sendable {
        case calibrating(windowsDone: Int, windows: Int)
        case pruning(tensor: String, index: Int, count: Int)
        case writing(path: String)
    }

    public struct Request: Sendable {
        public var basePath: String
        public var plan: PruningPlan
        /// Calibration windows (of the model's context length) drawn from the train split with `calibrationSeed`.
        public var calibrationSamples: Int
        public var calibrationSeed: UInt64
        /// A calibration text file instead of the base's train split.
        public var calibrationData: String?
        public var output: String
        public var whittleVersion: String
        public var command: String

        public init(basePath: String, plan: PruningPlan, calibrationSamples: Int = 128, calibrationSeed: UInt64 = 1,
                    calibrationData: String? = nil, output: String, whittleVersion: String, command: String) {
            self.basePath = basePath
            self.plan = plan
            self.calibrationSamples = calibrationSamples
            self.calibrationSeed = calibrationSeed
            self.calibrationData = calibrationData
            self.output = output
            self.whittleVersion = whittleVersion
            self.command = command
        }
    }

    public struct Outcome: Sendable {
        public var directory: String
        public var variant: Variant
        public var baseWeightsFileBytes: Int
        public var baseParameterCount: Int
        /// Per pruned tensor (single weights), or empty.
        public var reports: [Pruner.TensorReport]
        /// Per block, the heads or neurons removed (structured), or nil.
        public var removed: [[Int]]?
        public var seconds: Double
    }

    public static func run(_ request: Request, progress: (Progress) -> Void = { _ in }, isCancelled: () -> Bool = { false }) throws -> Outcome {
        let start = DispatchTime.now().uptimeNanoseconds
        let output = AtomicDirectory.normalized(request.output)
        guard !FileIO.exists(output) else {
            throw WhittleError.config("'\(output)' already exists", hint: "choose another --out, or delete it first")
        }
        let plan = request.plan
        try plan.validate()
        let base = try LoadedModel.load(request.basePath)
        guard let model = base.floatModel else {
            throw WhittleError.config("\(base.source) holds quantized weights (\(base.weightsFile)); pruning starts from fp32 weights",
                                      hint: "prune the fp32 model, then quantize the pruned variant")
        }
        try plan.check(layout: model.layout)
        var calibration: CalibrationStatistics? = nil
        if plan.needsCalibration {
            guard request.calibrationSamples >= 1 else {
                throw WhittleError.config("--calibration-samples must be at least 1 (got \(request.calibrationSamples))", hint: "128 is the default")
            }
            let text = try ModelText.load(file: request.calibrationData, split: .train, tokenizer: base.tokenizer,
                                          directories: [base.source], option: "--calibration-data")
            calibration = try withoutActuallyEscaping(progress) { report in
                try CalibrationStatistics.collect(model: model, tokens: text.tokens, name: text.source,
                                                  samples: request.calibrationSamples, seed: request.calibrationSeed,
                                                  progress: { report(.calibrating(windowsDone: $0.windowsDone, windows: $0.windows)) },
                                                  isCancelled: isCancelled)
            }
        }
        guard !isCancelled() else { throw WhittleError(.cancelled, "pruning cancelled; nothing was written") }
        var pruned: GPTModel, mask: SparsityMask? = nil, reports: [Pruner.TensorReport] = [], removed: [[Int]]? = nil
        if plan.structured != nil {
            let result = try StructuredPruner.prune(model, plan: plan, calibration: calibration)
            (pruned, removed) = (result.model, result.removed)
        } else {
            let result = try Pruner.prune(model, plan: plan, calibration: calibration, progress: {
                progress(.pruning(tensor: $0.tensor, index: $0.index, count: $0.count))
            }, isCancelled: isCancelled)
            (pruned, mask, reports) = (result.model, result.mask, result.reports)
        }
        let lineage = try Self.lineage(of: base)
        let pass = Variant.Pass(settings: .prune(plan), calibrationText: calibration?.split, calibrationSamples: calibration?.samples,
                                calibrationSeed: calibration?.seed)
        var files = try ModelDirectory.files(model: pruned, tokenizer: base.tokenizer, mask: mask)
        let weights = files.first { $0.name == ModelDirectory.weightsName || $0.name == ModelDirectory.sparseWeightsName }!
        let payload = payloadBytes(pruned, mask: mask)
        let entries = pruned.layout.tensors.filter(QuantizationPlan.isQuantizable).map { Variant.PlanEntry(tensor: $0.name, format: .f32) }
        let variant = Variant(base: lineage.base, passes: lineage.passes + [pass], plan: entries, weightsFile: weights.name,
                              weightsFileBytes: weights.bytes.count, bitsPerWeight: Double(payload * 8) / Double(pruned.parameterCount),
                              parameterCount: pruned.parameterCount, whittleVersion: request.whittleVersion, command: request.command)
        files += [(Variant.fileName, Array(variant.json().utf8)), ("README.md", Array(VariantCard.markdown(variant).utf8))]
        let trainingConfig = base.source + "/" + Quantizer.trainingConfigName
        if FileIO.isDirectory(base.source), FileIO.exists(trainingConfig) {
            files.append((Quantizer.trainingConfigName, try FileIO.readFile(trainingConfig)))
        }
        guard !isCancelled() else { throw WhittleError(.cancelled, "pruning cancelled; nothing was written") }
        progress(.writing(path: output))
        try AtomicDirectory.publish(files: files, to: output)
        return Outcome(directory: output, variant: variant, baseWeightsFileBytes: base.weightsFileBytes,
                       baseParameterCount: model.parameterCount, reports: reports, removed: removed,
                       seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// The base and earlier passes a new pass on `model` continues: a variant's own lineage, or the
    /// model itself (its weights file's SHA-256) with no passes.
    public static func lineage(of model: LoadedModel) throws -> (base: Variant.Base, passes: [Variant.Pass]) {
        if FileIO.isDirectory(model.source), FileIO.exists(model.source + "/" + Variant.fileName) {
            let parent = try Variant.load(model.source)
            return (parent.base, parent.passes)
        }
        let sha = SHA256.hex(try FileIO.readFile(model.weightsFile))
        return (Variant.Base(path: model.source, weightsFile: URL(fileURLWithPath: model.weightsFile).lastPathComponent, sha256: sha), [])
    }

    /// Bytes of the weights as stored (no file header): fp32 tensors, and bitmap + kept values for masked ones.
    static func payloadBytes(_ model: GPTModel, mask: SparsityMask?) -> Int {
        model.layout.tensors.reduce(0) { total, tensor in
            guard let entry = mask?[tensor.name] else { return total + 4 * tensor.count }
            return total + entry.kept.count + 4 * entry.keptCount
        }
    }
}
