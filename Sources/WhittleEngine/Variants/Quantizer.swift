// Making a quantized variant: load the fp32 base, resolve the plan against its tensors, round every
// matrix and the token embedding to its type (round to nearest = GGUF's reference quantizers), and
// publish the variant directory atomically — `model.gguf`, `variant.json`, the model card and the
// base's `config.toml` (so `whittle eval` finds the same validation split) — written to a temporary
// directory, fsynced and renamed, so an error or a cancel leaves nothing under the output name.

import Foundation

/// Builds quantized variants (`whittle quantize`).
public enum Quantizer {
    /// Where a quantization job is; reported in order, once the base is loaded and the plan checked.
    public enum Progress: Equatable, Sendable {
        /// Tensor `index` (from 1) of `count` quantizable tensors is being rounded to `format`.
        case quantizing(tensor: String, format: WeightFormat, index: Int, count: Int)
        case writing(path: String)
    }

    /// What to make.
    public struct Request: Sendable {
        public var basePath: String
        public var method: QuantizationMethod
        public var plan: QuantizationPlan
        public var output: String
        /// Recorded in `variant.json` and the model card.
        public var whittleVersion: String
        public var command: String

        public init(basePath: String, method: QuantizationMethod = .rtn, plan: QuantizationPlan, output: String,
                    whittleVersion: String, command: String) {
            self.basePath = basePath
            self.method = method
            self.plan = plan
            self.output = output
            self.whittleVersion = whittleVersion
            self.command = command
        }
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
        _ = try QuantizationMethod.named(request.method.rawValue)   // refuses methods not built yet
        let base = try LoadedModel.load(request.basePath)
        guard let model = base.floatModel else {
            throw WhittleError.config("\(base.source) holds already-quantized weights (\(base.weightsFile)); quantizing them again would compound rounding errors",
                                      hint: "quantize from the fp32 model directory (config.json + model.safetensors) the variant was made from")
        }
        let formats = try request.plan.resolve(layout: model.layout)
        let lineage = try PruningJob.lineage(of: base)   // a pruned base passes its lineage on (prune, then quantize)
        let store = try quantize(model, formats: formats, progress: progress, isCancelled: isCancelled)
        let name = URL(fileURLWithPath: output).lastPathComponent
        let gguf = try GPT2GGUF.serialize(store: store, config: model.config, tokenizer: base.tokenizer, name: name)
        let plan = zip(model.layout.tensors, formats).filter { QuantizationPlan.isQuantizable($0.0) }
            .map { Variant.PlanEntry(tensor: $0.0.name, format: $0.1) }
        let variant = Variant(
            base: lineage.base, passes: lineage.passes + [Variant.Pass(method: request.method, plan: request.plan)], plan: plan,
            weightsFile: LoadedModel.ggufName, weightsFileBytes: gguf.count,
            bitsPerWeight: Double(store.payloadBytes * 8) / Double(model.parameterCount), parameterCount: model.parameterCount,
            whittleVersion: request.whittleVersion, command: request.command)
        var files: [(name: String, bytes: [UInt8])] = [
            (LoadedModel.ggufName, gguf),
            (Variant.fileName, Array(variant.json().utf8)),
            ("README.md", Array(VariantCard.markdown(variant).utf8)),
        ]
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

    /// Rounds `model`'s tensors to `formats` (one per tensor of its layout, as `QuantizationPlan.resolve`
    /// returns) into a `WeightStore`. Matrices in a format other than f32 are stored output-major, as
    /// `WeightStore(layout:parameters:format:)` stores them; the bytes are the same.
    public static func quantize(_ model: GPTModel, formats: [WeightFormat], progress: (Progress) -> Void = { _ in },
                                isCancelled: () -> Bool = { false }) throws -> WeightStore {
        let layout = model.layout
        precondition(formats.count == layout.tensors.count, "one format per tensor")
        let stored = zip(layout.tensors, formats).map { tensor, format -> (format: WeightFormat, orientation: Orientation) in
            let orientation: Orientation = tensor.shape.count == 1 ? .vector : (format == .f32 ? tensor.orientation : .outputMajor)
            return (format, orientation)
        }
        let quantizable = layout.tensors.filter(QuantizationPlan.isQuantizable).count
        var index = 0
        return try WeightStore(layout: layout, stored: stored) { tensor, destination in
            let source = layout.tensors.first { $0.name == tensor.name }!
            if QuantizationPlan.isQuantizable(source) {
                guard !isCancelled() else { throw WhittleError(.cancelled, "quantization cancelled; nothing was written") }
                index += 1
                progress(.quantizing(tensor: tensor.name, format: tensor.format, index: index, count: quantizable))
            }
            roundToNearest(model.parameters.pointer + source.offset, from: source, as: tensor, into: destination)
        }
    }

    /// Writes one tensor's fp32 values in its stored format and orientation, row by row, with the
    /// format's reference quantizer (GGUF's `quantize_row_*_ref`).
    static func roundToNearest(_ values: UnsafePointer<Float>, from source: ParameterTensor, as stored: ParameterTensor,
                               into destination: UnsafeMutableRawPointer) {
        let rowLength = stored.shape.last!, rows = stored.count / rowLength
        let rowBytes = stored.format.rowBytes(rowLength)!
        let transposed = source.orientation == .inputMajor && stored.orientation == .outputMajor
        withUnsafeTemporaryAllocation(of: Float.self, capacity: rowLength) { row in
            for r in 0..<rows {
                if transposed {
                    for k in 0..<rowLength { row[k] = values[k * rows + r] }
                } else {
                    row.baseAddress!.update(from: values + r * rowLength, count: rowLength)
                }
                stored.format.quantizeRow(row.baseAddress!, into: destination + r * rowBytes, count: rowLength)
            }
        }
    }
}
