// The rounding algorithms behind one call: a model, a per-tensor plan of formats, a method (round-to-
// nearest, importance-weighted, GPTQ, AWQ: scaling, then each block's clipping by output error, for
// every linear matrix, the MLP c_proj included though it cannot be scaled) and calibration statistics
// give a `WeightStore` of ordinary blocks of each planned type (so every result runs on the same
// kernels and loads in llama.cpp), the fp32 model the store stands for (AWQ's copy with scales folded into LayerNorms and
// value columns; the input model otherwise), and a report per tensor: the method applied and, where
// calibration statistics exist, the output reconstruction error ‖XWᵀ − XŴᵀ‖² / ‖XWᵀ‖² computed from
// the layer's Hessian. Methods act on block-quantized linear weights; other formats (f32, f16, bf16,
// int8 per channel; AWQ also scales int8) and the tied embedding/head take round-to-nearest unless
// asked (`methodOnTiedHead`). Progress goes to a callback; nothing here prints.

/// How weights are rounded to a type's grid.
public enum RoundingMethod: String, CaseIterable, Equatable, Sendable, Codable {
    /// GGUF's reference round-to-nearest.
    case rtn
    /// Importance-weighted block grids (llama.cpp's `--imatrix`).
    case imatrix
    /// GPTQ with error feedback through the inverse Hessian.
    case gptq
    /// AWQ: activation-aware scaling folded into the model, then each block's clipping chosen by output error.
    case awq

    /// Whether the method reads calibration statistics.
    public var needsCalibration: Bool { self != .rtn }

    /// Parses a method name (any case); an unknown name is a `.config` error listing the methods.
    public static func named(_ name: String) throws -> RoundingMethod {
        guard let method = RoundingMethod(rawValue: name.lowercased()) else {
            throw WhittleError.config("unknown quantization method '\(name)'",
                                      hint: "methods: \(allCases.map(\.rawValue).joined(separator: ", ")) (rtn needs no calibration text)")
        }
        return method
    }
}

/// Settings of the rounding algorithms.
public struct QuantizationOptions: Equatable, Sendable {
    public var gptq: GPTQ.Options
    /// α values tried by AWQ: 0, 1/n, …, (n−1)/n.
    public var awqGrid: Int
    /// Apply imatrix or GPTQ to the tied token embedding / head too (it is also the embedding table,
    /// whose lookups the head's statistics do not see); off by default.
    public var methodOnTiedHead: Bool

    public init(gptq: GPTQ.Options = GPTQ.Options(), awqGrid: Int = 20, methodOnTiedHead: Bool = false) {
        self.gptq = gptq
        self.awqGrid = awqGrid
        self.methodOnTiedHead = methodOnTiedHead
    }
}

/// What happened to one stored matrix.
public struct TensorQuantizationReport: Equatable, Sendable, Codable {
    public let tensor: String
    public let format: WeightFormat
    /// The method that produced its blocks (round-to-nearest where the requested one does not apply).
    public let method: RoundingMethod
    /// ‖XWᵀ − XŴᵀ‖² / ‖XWᵀ‖² on the calibration inputs (in the stored model's coordinates); nil without statistics.
    public let relativeError: Double?
    /// AWQ's chosen α for a scaled tensor.
    public let awqAlpha: Double?
    /// GPTQ's damping λ.
    public let damping: Double?
}

/// A quantized model.
public struct QuantizationResult: @unchecked Sendable {
    public let store: WeightStore
    /// The fp32 model `store` rounds: AWQ's folded copy (its LayerNorms and c_attn value columns carry
    /// the inverse scales), else the model given.
    public let model: GPTModel
    public let reports: [TensorQuantizationReport]
}

/// Progress of a quantization: the tensor being worked on, of the total.
public struct QuantizationProgress: Equatable, Sendable {
    public let tensor: String
    public let done: Int
    public let total: Int
}

public enum Rounding {
    /// Quantizes `model`'s matrices (and token embedding) to `plan`'s formats with `method`.
    /// Throws `.invalidConfig` when a format does not fit a tensor's rows (naming the nearest type that
    /// does), when a calibrated method has no statistics or statistics of another shape, or when GPTQ
    /// cannot factor a Hessian.
    public static func quantize(model: GPTModel, plan: (ParameterTensor) -> WeightFormat, method: RoundingMethod,
                                calibration: CalibrationStatistics?, options: QuantizationOptions = QuantizationOptions(),
                                progress: (QuantizationProgress) -> Void = { _ in },
                                isCancelled: () -> Bool = { false }) throws -> QuantizationResult {
        let layout = model.layout
        let targets = layout.tensors.filter { $0.role == .tokenEmbedding || $0.role.isLinearWeight }
        for tensor in targets { try checkFits(tensor, plan(tensor)) }
        if method.needsCalibration {
            guard let calibration else {
                throw WhittleError.config("the \(method.rawValue) method needs calibration statistics",
                                          hint: "collect them with CalibrationStatistics.collect (calibration samples > 0), or use --method rtn")
            }
            for site in CalibrationStatistics.sites(layout.dimensions) where calibration[site.tensor]?.inputs != site.inputs {
                throw WhittleError.config("the calibration statistics do not match this model (\(site.tensor) takes \(site.inputs) inputs)",
                                          hint: "collect calibration statistics on the model being quantized")
            }
        }
        var done = 0
        let total = targets.count + (method == .awq ? targets.count : 0)
        func report(_ name: String) { done += 1; progress(QuantizationProgress(tensor: name, done: done, total: total)) }

        var source = model
        var inputScales: [String: [Float]] = [:], alphas: [String: Double] = [:]
        if method == .awq, let calibration {
            let outcome = try ActivationAwareScaling.fold(model: model, calibration: calibration, plan: plan,
                                                          grid: options.awqGrid, progress: report)
            source = outcome.model
            inputScales = outcome.inputScales
            alphas = outcome.alphas
            done = targets.count
        }
        // Blocks from imatrix or GPTQ, per tensor name (output-major rows); the rest is encoded by reference.
        var encoded: [String: [UInt8]] = [:]
        var applied: [String: RoundingMethod] = [:], dampings: [String: Double] = [:]
        for tensor in targets {
            guard !isCancelled() else { throw WhittleError(.cancelled, "quantization cancelled") }
            let format = plan(tensor)
            let tied = tensor.role == .tokenEmbedding
            var used = RoundingMethod.rtn
            if method == .awq, BlockGrid.supports(format), !tied, let stats = calibration?[tensor.name] {
                // AWQ's clipping: each block's grid by the layer's output error, in the folded coordinates.
                let rows = outputRows(source.parameters.pointer + tensor.offset, tensor: tensor)
                let K = stats.inputs, outputs = rows.count / K, rowBytes = format.rowBytes(K)!
                let h = hessian(stats, inputScales: inputScales[tensor.name])
                var bytes = [UInt8](repeating: 0, count: outputs * rowBytes)
                rows.withUnsafeBufferPointer { w in
                    bytes.withUnsafeMutableBytes { out in
                        for r in 0..<outputs {
                            BlockClipping.quantizeRow(format, w.baseAddress! + r * K, hessian: h, into: out.baseAddress! + r * rowBytes, count: K)
                        }
                    }
                }
                encoded[tensor.name] = bytes
                used = .awq
            } else if method == .awq, inputScales[tensor.name] != nil {
                used = .awq
            }
            if (method == .imatrix || method == .gptq), BlockGrid.supports(format), !tied || options.methodOnTiedHead,
               let stats = calibration?[tensor.name] {
                let rows = outputRows(source.parameters.pointer + tensor.offset, tensor: tensor)
                let K = stats.inputs, outputs = rows.count / K
                var bytes = [UInt8](repeating: 0, count: outputs * format.rowBytes(K)!)
                if method == .imatrix {
                    let importance = stats.meanSquare.map(Float.init)
                    let rowBytes = format.rowBytes(K)!
                    var weights = [Float](repeating: 0, count: K)
                    rows.withUnsafeBufferPointer { w in
                        bytes.withUnsafeMutableBytes { out in
                            for r in 0..<outputs {
                                ImportanceRounding.elementWeights(importance, row: w.baseAddress! + r * K, into: &weights)
                                ImportanceRounding.quantizeRow(format, w.baseAddress! + r * K, weights: weights,
                                                               into: out.baseAddress! + r * rowBytes, count: K)
                            }
                        }
                    }
                } else {
                    do {
                        dampings[tensor.name] = try bytes.withUnsafeMutableBytes { out in
                            try GPTQ.quantize(weights: rows, rows: outputs, columns: K, hessian: stats.hessian, format: format,
                                              options: options.gptq, into: out.baseAddress!)
                        }
                    } catch let failure as GPTQ.Failure {
                        throw error(failure, tensor: tensor.name)
                    }
                }
                encoded[tensor.name] = bytes
                used = method
            }
            applied[tensor.name] = used
            report(tensor.name)
        }
        let store = makeStore(source, plan: plan, encoded: encoded)
        var reports: [TensorQuantizationReport] = []
        for tensor in targets {
            let stored = store.tensor(named: tensor.name)!
            let relative = calibration?[tensor.name].map {
                relativeError(source, tensor, store: store, stored: stored, stats: $0, inputScales: inputScales[tensor.name])
            }
            reports.append(TensorQuantizationReport(tensor: tensor.name, format: stored.format, method: applied[tensor.name] ?? .rtn,
                                                    relativeError: relative, awqAlpha: alphas[tensor.name],
                                                    damping: dampings[tensor.name]))
        }
        return QuantizationResult(store: store, model: source, reports: reports)
    }

    /// A matrix's rows as stored: [out, K] (transposed from the training layout for input-major tensors).
    static func outputRows(_ values: UnsafePointer<Float>, tensor: ParameterTensor) -> [Float] {
        guard tensor.orientation == .inputMajor else { return Array(UnsafeBufferPointer(start: values, count: tensor.count)) }
        let K = tensor.shape[0], outputs = tensor.shape[1]
        var rows = [Float](repeating: 0, count: tensor.count)
        for k in 0..<K {
            for r in 0..<outputs { rows[r * K + k] = values[k * outputs + r] }
        }
        return rows
    }

    /// A store of `model`'s tensors in `plan`'s formats, with `encoded` rows where given and the reference encoding elsewhere.
    private static func makeStore(_ model: GPTModel, plan: (ParameterTensor) -> WeightFormat, encoded: [String: [UInt8]]) -> WeightStore {
        let layout = model.layout
        let stored: [(format: WeightFormat, orientation: Orientation)] = layout.tensors.map { tensor in
            guard tensor.shape.count == 2 else { return (.f32, .vector) }
            let format = tensor.role == .tokenEmbedding || tensor.role.isLinearWeight ? plan(tensor) : .f32
            return (format, format == .f32 ? tensor.orientation : .outputMajor)
        }
        return WeightStore(layout: layout, stored: stored) { tensor, destination in
            let source = layout.tensor(named: tensor.name)!
            if let bytes = encoded[tensor.name] {
                bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress!, byteCount: tensor.byteCount) }
                return
            }
            let values = model.parameters.pointer + source.offset
            if tensor.orientation == source.orientation || tensor.orientation == .vector {
                guard tensor.format == .f32 else {
                    let rowLength = tensor.shape.last!, rowBytes = tensor.format.rowBytes(rowLength)!
                    for r in 0..<(tensor.count / rowLength) {
                        tensor.format.quantizeRow(values + r * rowLength, into: destination + r * rowBytes, count: rowLength)
                    }
                    return
                }
                destination.copyMemory(from: values, byteCount: tensor.count * 4)
                return
            }
            let rows = outputRows(values, tensor: source), K = tensor.shape[1], rowBytes = tensor.format.rowBytes(K)!
            rows.withUnsafeBufferPointer { w in
                for r in 0..<(tensor.count / K) {
                    tensor.format.quantizeRow(w.baseAddress! + r * K, into: destination + r * rowBytes, count: K)
                }
            }
        }
    }

    /// ‖XΔWᵀ‖² / ‖XWᵀ‖² from the layer's Hessian, with inputs divided by `inputScales` where AWQ folded them.
    private static func relativeError(_ model: GPTModel, _ tensor: ParameterTensor, store: WeightStore, stored: ParameterTensor,
                                      stats: LayerStatistics, inputScales: [Float]?) -> Double {
        let K = stats.inputs
        var rows = outputRows(model.parameters.pointer + tensor.offset, tensor: tensor)
        let outputs = rows.count / K
        let h = hessian(stats, inputScales: inputScales)
        let reference = SymmetricMatrix.quadraticForm(rows, rows: outputs, n: K, h: h)
        var approximation = [Float](repeating: 0, count: K)
        let data = store.data(stored)
        if stored.orientation == .outputMajor {
            let rowBytes = stored.format.rowBytes(K)!
            for r in 0..<outputs {
                stored.format.dequantizeRow(data + r * rowBytes, into: &approximation, count: K)
                for k in 0..<K { rows[r * K + k] -= approximation[k] }
            }
        } else {
            let exact = outputRows(data.assumingMemoryBound(to: Float.self), tensor: tensor)
            for i in 0..<rows.count { rows[i] -= exact[i] }
        }
        let error = SymmetricMatrix.quadraticForm(rows, rows: outputs, n: K, h: h)
        return reference > 0 ? error / reference : 0
    }

    /// The layer's Hessian in fp32, in the coordinates of inputs divided by `inputScales` where AWQ folded them.
    private static func hessian(_ stats: LayerStatistics, inputScales: [Float]?) -> [Float] {
        let K = stats.inputs
        var h = stats.hessian.map(Float.init)
        if let s = inputScales {
            for i in 0..<K { for j in 0..<K { h[i * K + j] /= s[i] * s[j] } }
        }
        return h
    }

    /// Throws when `format` does not divide `tensor`'s rows, naming the nearest type (in bits) that does.
    static func checkFits(_ tensor: ParameterTensor, _ format: WeightFormat) throws {
        let K = tensor.orientation == .inputMajor ? tensor.shape[0] : tensor.shape[1]
        guard format.rowBytes(K) == nil else { return }
        let fitting = WeightFormat.allCases.filter { $0.rowBytes(K) != nil && $0 != .f32 }
        let nearest = fitting.min { abs($0.bitsPerWeight - format.bitsPerWeight) < abs($1.bitsPerWeight - format.bitsPerWeight) }
        throw WhittleError.config("\(tensor.name): rows of \(K) weights are not whole \(format.rawValue) blocks of \(format.traits.blockSize)",
                                  hint: "keep \(tensor.name) at \(nearest?.rawValue ?? "f32") (the nearest type that fits) in the plan")
    }

    private static func error(_ failure: GPTQ.Failure, tensor: String) -> WhittleError {
        switch failure {
        case .notPositiveDefinite(let damping):
            return WhittleError(.numeric, "GPTQ: the Hessian of \(tensor) is not positive definite even with damping \(damping)",
                                hint: "raise the damping (percdamp) or use more calibration samples")
        case .invalidOptions(let message):
            return WhittleError.config("GPTQ: \(message)", hint: "use the defaults: damping 0.01, batch 128")
        }
    }
}
