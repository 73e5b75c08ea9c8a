// Making a quantized variant: load the fp32 base, resolve the plan against its tensors, collect
// calibration statistics when the method needs them (windows of the base's train split or of a text
// file, never the validation split), round every matrix and the token embedding to its type with the
// method (`Rounding`: round to nearest = GGUF's reference quantizers, imatrix, GPTQ, AWQ), and
// publish the variant directory atomically — `model.gguf`, `variant.json`, the model card and the
// base's `config.toml` (so `whittle eval` finds the same validation split) — written to a temporary
// directory, fsynced and renamed, so an error or a cancel leaves nothing under the output name.

import Foundation

/// Builds quantized variants (`whittle quantize`).
public enum Quantizer {
    /// Where a quantization job is; reported in order, once the base is loaded and the plan checked.
    public enum Progress: Equatable, Sendable {
        /// Calibration windows done of the total (methods that need calibration text).
        case calibrating(done: Int, total: Int, source: String)
        /// Step `index` (from 1) of `count`: a tensor being rounded to `format` (AWQ first scales each, then rounds each).
        case quantizing(tensor: String, format: WeightFormat, index: Int, count: Int)
        case writing(path: String)
    }

    /// What to make.
    public struct Request: Sendable {
        public var basePath: String
        public var method: RoundingMethod
        public var plan: QuantizationPlan
        /// Where calibration windows come from, used only by methods that need them.
        public var calibration: Calibration
        /// With a plan chosen for a size (`--target-bpw`): the map it came from and the size asked for;
        /// the map is stored in the variant as `sensitivity.json`.
        public var sensitivity: (map: SensitivityMap, targetBitsPerWeight: Double)?
        public var output: String
        /// Recorded in `variant.json` and the model card.
        public var whittleVersion: String
        public var command: String

        public init(basePath: String, method: RoundingMethod = .rtn, plan: QuantizationPlan,
                    calibration: Calibration = Calibration(), output: String, whittleVersion: String, command: String) {
            self.basePath = basePath
            self.method = method
            self.plan = plan
            self.calibration = calibration
            self.output = output
            self.whittleVersion = whittleVersion
            self.command = command
        }
    }

    /// Calibration text: `samples` windows of the model's context drawn with `seed` from `file`, or from the
    /// train split of the dataset in the base's config.toml when `file` is nil.
    public struct Calibration: Equatable, Sendable {
        public var file: String?
        public var samples: Int
        public var seed: UInt64
        /// GPTQ's customary 128 calibration sequences.
        public static let defaultSamples = 128

        public init(file: String? = nil, samples: Int = defaultSamples, seed: UInt64 = 1337) {
            self.file = file
            self.samples = samples
            self.seed = seed
        }
    }

    /// A sensitivity scan of an fp32 base (`whittle quantize --scan`): `calibration.samples` windows of
    /// `calibration`'s text (the base's train split unless a file is named), each tensor at each of `formats`.
    public static func scan(basePath: String, calibration: Calibration, formats: [WeightFormat] = SensitivityScan.defaultFormats,
                            progress: (SensitivityScan.Progress) -> Void = { _ in },
                            isCancelled: () -> Bool = { false }) throws -> SensitivityMap {
        let base = try LoadedModel.load(basePath)
        let model = try floatModel(of: base)
        let text = try ModelText.load(file: calibration.file, split: .train, tokenizer: base.tokenizer, directories: [base.source],
                                      option: "--calibration-data")
        return try SensitivityScan.run(model: model, tokens: text.tokens, source: text.source, samples: calibration.samples,
                                       seed: calibration.seed, formats: formats, progress: progress, isCancelled: isCancelled)
    }

    static func floatModel(of base: LoadedModel) throws -> GPTModel {
        guard let model = base.floatModel else {
            throw WhittleError.config("\(base.source) holds already-quantized weights (\(base.weightsFile)); quantizing them again would compound rounding errors",
                                      hint: "quantize from the fp32 model directory (config.json + model.safetensors) the variant was made from")
        }
        return model
    }

    /// What was made.
    public struct Outcome: Sendable {
        public var directory: String
        public var variant: Variant
        /// The base's weights file size (for the size ratio).
        public var baseWeightsFileBytes: Int
        public var seconds: Double
    }

    /// The name of the base's training settings copied into a variant (read by `whittle eval`).
    static let trainingConfigName = "config.toml"

    /// Quantizes the base model of `request` and publishes the variant directory. `progress` is called
    /// on the caller's thread; `isCancelled` is polled between tensors and before publishing
    /// (`.cancelled` is thrown and nothing is written).
    public static func run(_ request: Request, progress: (Progress) -> Void = { _ in },
                           isCancelled: () -> Bool = { false }) throws -> Outcome {
        let start = DispatchTime.now().uptimeNanoseconds
        let output = AtomicDirectory.normalized(request.output)
        guard !FileIO.exists(output) else {
            throw WhittleError.config("'\(output)' already exists", hint: "choose another --out, or delete it first")
        }
        let base = try LoadedModel.load(request.basePath)
        let model = try floatModel(of: base)
        let formats = try request.plan.resolve(layout: model.layout)
        if let sensitivity = request.sensitivity { try sensitivity.map.check(against: model.layout, source: "the sensitivity map") }
        let lineage = try PruningJob.lineage(of: base)   // a pruned base passes its lineage on (prune, then quantize)
        var statistics: CalibrationStatistics? = nil
        var calibrationSource: String? = nil
        if request.method.needsCalibration {
            let c = request.calibration
            let text = try ModelText.load(file: c.file, split: .train, tokenizer: base.tokenizer, directories: [base.source],
                                          option: "--calibration-data")
            calibrationSource = text.source
            statistics = try CalibrationStatistics.collect(
                model: model, tokens: text.tokens, name: text.source, samples: c.samples, seed: c.seed,
                progress: { progress(.calibrating(done: $0.windowsDone, total: $0.windows, source: text.source)) },
                isCancelled: isCancelled)
        }
        let formatOf = Dictionary(uniqueKeysWithValues: zip(model.layout.tensors.map(\.name), formats))
        let result = try Rounding.quantize(
            model: model, plan: { formatOf[$0.name]! }, method: request.method, calibration: statistics,
            progress: { progress(.quantizing(tensor: $0.tensor, format: formatOf[$0.tensor]!, index: $0.done, count: $0.total)) },
            isCancelled: isCancelled)
        let store = result.store
        let name = URL(fileURLWithPath: output).lastPathComponent
        let gguf = try GPT2GGUF.serialize(store: store, config: model.config, tokenizer: base.tokenizer, name: name)
        let plan = zip(model.layout.tensors, formats).filter { QuantizationPlan.isQuantizable($0.0) }
            .map { Variant.PlanEntry(tensor: $0.0.name, format: $0.1) }
        let variant = Variant(
            base: lineage.base,
            passes: lineage.passes + [Variant.Pass(method: request.method, plan: request.plan, calibrationText: calibrationSource,
                                  calibrationSamples: statistics?.samples, calibrationSeed: statistics?.seed,
                                  targetBitsPerWeight: request.sensitivity?.targetBitsPerWeight,
                                  predictedDivergence: request.sensitivity.flatMap { s in
                                      s.map.predictedDivergence(s.map.assignment { formatOf[$0]! })
                                  })], plan: plan,
            weightsFile: LoadedModel.ggufName, weightsFileBytes: gguf.count,
            bitsPerWeight: Double(store.payloadBytes * 8) / Double(model.parameterCount), parameterCount: model.parameterCount,
            whittleVersion: request.whittleVersion, command: request.command)
        var files: [(name: String, bytes: [UInt8])] = [
            (LoadedModel.ggufName, gguf),
            (Variant.fileName, Array(variant.json().utf8)),
            ("README.md", Array(VariantCard.markdown(variant).utf8)),
        ]
        if let sensitivity = request.sensitivity {
            files.append((SensitivityMap.fileName, Array(try sensitivity.map.json().utf8)))
        }
        let trainingConfig = base.source + "/" + trainingConfigName
        if FileIO.isDirectory(base.source), FileIO.exists(trainingConfig) {
            files.append((trainingConfigName, try FileIO.readFile(trainingConfig)))
        }
        guard !isCancelled() else { throw WhittleError(.cancelled, "quantization cancelled; nothing was written") }
        progress(.writing(path: output))
        try AtomicDirectory.publish(files: files, to: output)
        return Outcome(directory: output, variant: variant, baseWeightsFileBytes: base.weightsFileBytes,
                       seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
