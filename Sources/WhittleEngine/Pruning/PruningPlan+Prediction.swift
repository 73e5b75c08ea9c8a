// What a prune plan would make of a model, before anything is pruned: how many weights each
// targeted tensor keeps, the weights file's size (`model.sparse.safetensors`: a bitmap plus the kept
// values per pruned matrix; or, structured, the smaller model's plain `model.safetensors`), bits per
// weight as `variant.json` records them, and the weights held in memory to run it. Every selection
// rule prunes an exact count (per tensor, per row, per SparseGPT block, per N:M group, per block's
// heads or neurons), so the prediction is the written file's size to the byte; only a global
// magnitude threshold spreads its count over the tensors by their values, so its file size is exact
// in the values' bytes and estimated in the header's digits (`isExact` says which). The Compress
// screen shows these next to the base, beside `QuantizationPlan.predict`.

/// A prune plan's outcome for one model.
public struct PruningPrediction: Equatable, Sendable {
    /// The model after the pass (smaller per-block shapes when structured; the base's otherwise).
    public var config: ModelConfig
    /// Parameters of the pruned model (every tensor; pruned single weights still count, as zeros).
    public var parameterCount: Int
    /// Weights the pass sets to zero (unstructured), or parameters it removes (structured).
    public var prunedCount: Int
    /// Bytes of the weights as stored (no file header): fp32 tensors, bitmap + kept values for masked ones.
    public var storedBytes: Int
    /// The weights file's size, and its name.
    public var fileBytes: Int
    public var weightsFile: String
    /// Bytes the weights take in memory to run: fp32 for every parameter (pruned zeros run on the dense kernels).
    public var memoryBytes: Int
    /// False for a global magnitude threshold, whose file header digits depend on how the count falls.
    public var isExact: Bool

    /// Storage bits per parameter, as `variant.json` reports them.
    public var bitsPerWeight: Double { Double(storedBytes * 8) / Double(max(parameterCount, 1)) }
}

extension PruningPlan {
    /// Predicts the pass on a model of `config` (throwing what the pass would throw for this plan and shape).
    public func predict(config: ModelConfig) throws -> PruningPrediction {
        try validate()
        let layout = ParameterLayout(config.dimensions)
        try check(layout: layout)
        if let structured { return try predictStructured(config: config, unit: structured) }
        let targets = layout.tensors.filter(targets)
        var pruned = targets.map { prunedCount(of: $0) }
        if scope == .global {
            // One threshold over every target: the total is exact, the split proportional (an estimate).
            let total = targets.reduce(0) { $0 + $1.count }
            let cut = Int(Double(total) * sparsity)
            pruned = targets.map { Int(Double($0.count) / Double(max(total, 1)) * Double(cut)) }
            if let last = pruned.indices.last { pruned[last] += cut - pruned.reduce(0, +) }
        }
        var descriptors: [SafetensorsWriter.TensorDescriptor] = []
        var stored = 0
        let prunedByName = Dictionary(uniqueKeysWithValues: zip(targets.map(\.name), pruned))
        for tensor in layout.tensors {
            let name = ModelDirectory.namePrefix + tensor.name
            guard let count = prunedByName[tensor.name] else {
                descriptors.append(.init(name: name, dataType: .f32, shape: tensor.shape))
                stored += 4 * tensor.count
                continue
            }
            let bitmap = (tensor.count + 7) / 8, kept = tensor.count - count
            descriptors.append(.init(name: name + ModelDirectory.keptSuffix, dataType: .u8, shape: [bitmap]))
            descriptors.append(.init(name: name + ModelDirectory.valuesSuffix, dataType: .f32, shape: [kept]))
            stored += bitmap + 4 * kept
        }
        // With nothing to prune the pass writes a plain model.safetensors (an empty mask).
        let sparse = !targets.isEmpty
        let file = sparse
            ? try SafetensorsWriter.fileBytes(descriptors, metadata: ModelDirectory.sparseMetadata)
            : try SafetensorsWriter.fileBytes(ModelDirectory.denseDescriptors(layout), metadata: ModelDirectory.denseMetadata)
        return PruningPrediction(config: config, parameterCount: layout.totalCount, prunedCount: pruned.reduce(0, +),
                                 storedBytes: sparse ? stored : 4 * layout.totalCount, fileBytes: file,
                                 weightsFile: sparse ? ModelDirectory.sparseWeightsName : ModelDirectory.weightsName,
                                 memoryBytes: 4 * layout.totalCount, isExact: scope != .global)
    }

    /// Weights `tensor` loses under a per-tensor target (as `Pruner` selects them).
    func prunedCount(of tensor: ParameterTensor) -> Int {
        let (rows, columns) = tensor.orientation == .inputMajor ? (tensor.shape[1], tensor.shape[0]) : (tensor.shape[0], tensor.shape[1])
        if let pattern { return rows * (columns / pattern.group) * (pattern.group - pattern.keep) }
        switch method {
        case .magnitude: return Int(Double(tensor.count) * sparsity)
        case .wanda: return rows * Int(Double(columns) * sparsity)
        case .sparsegpt:
            // SparseGPT cuts the fraction of each block of columns (all rows) in turn.
            let block = SparseGPT.Options().blockSize
            return stride(from: 0, to: columns, by: block).reduce(0) { total, start in
                total + Int(Double(rows * min(block, columns - start)) * sparsity)
            }
        }
    }

    /// The smaller model structured pruning leaves: each block loses the same rounded share of its units.
    func predictStructured(config: ModelConfig, unit: StructuredUnit) throws -> PruningPrediction {
        let shapes = try config.layers.enumerated().map { l, shape -> LayerShape in
            let units = unit == .heads ? shape.heads : shape.hiddenWidth
            let removed = Int((sparsity * Double(units)).rounded())
            guard removed > 0 else {
                throw WhittleError.config("sparsity \(sparsity) removes no \(unit.rawValue) of block \(l) (\(units) \(unit.rawValue), rounded to whole units)",
                                          hint: "raise the sparsity to at least \(String(format: "%.3g", 0.5 / Double(units) + 1e-3))")
            }
            guard removed < units else {
                throw WhittleError.config("sparsity \(sparsity) removes every \(unit == .heads ? "head" : "neuron") of block \(l) (\(units))",
                                          hint: "keep at least one per block: lower the sparsity")
            }
            return unit == .heads ? LayerShape(heads: shape.heads - removed, hiddenWidth: shape.hiddenWidth)
                : LayerShape(heads: shape.heads, hiddenWidth: shape.hiddenWidth - removed)
        }
        var smaller = config
        smaller.setLayerShapes(shapes)
        try smaller.validate()
        let layout = ParameterLayout(smaller.dimensions)
        let file = try SafetensorsWriter.fileBytes(ModelDirectory.denseDescriptors(layout), metadata: ModelDirectory.denseMetadata)
        return PruningPrediction(config: smaller, parameterCount: layout.totalCount,
                                 prunedCount: ParameterLayout(config.dimensions).totalCount - layout.totalCount,
                                 storedBytes: 4 * layout.totalCount, fileBytes: file, weightsFile: ModelDirectory.weightsName,
                                 memoryBytes: 4 * layout.totalCount, isExact: true)
    }
}
