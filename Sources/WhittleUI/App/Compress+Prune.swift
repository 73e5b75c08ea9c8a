// The Compress screen's prune pass: the plan its rows describe (method, sparsity, N:M pattern,
// structured heads or neurons), the engine's prediction of the variant it makes (weights file,
// bits per weight, memory, parameters) before anything runs, the request Apply sends, and the
// default output name (variants/<model>-wanda50, -sparsegpt-2of4, -heads25-magnitude).

import WhittleEngine

/// A prune pass as the screen asks the host to run it.
public struct PruneRequest: Equatable, Sendable {
    public var basePath: String
    public var plan: PruningPlan
    /// Calibration windows from the base's train split (Wanda and SparseGPT).
    public var calibrationSamples: Int
    public var output: String

    public init(basePath: String, plan: PruningPlan, calibrationSamples: Int, output: String) {
        self.basePath = basePath
        self.plan = plan
        self.calibrationSamples = calibrationSamples
        self.output = output
    }
}

extension CompressState {
    /// The pattern row's choices: none (a fraction), then the common N:M patterns.
    public static let patternChoices: [SparsityPattern?] = [nil, SparsityPattern(keep: 2, group: 4), SparsityPattern(keep: 4, group: 8),
                                                            SparsityPattern(keep: 1, group: 4)]
    /// The structured row's choices: single weights, whole heads, whole MLP neurons.
    public static let structureChoices: [PruningPlan.StructuredUnit?] = [nil, .heads, .neurons]

    /// The prune plan the rows describe, or what is wrong with them.
    public var pruningPlan: Result<PruningPlan, FormError> {
        let fraction: Double
        if let pattern {
            fraction = pattern.sparsity
        } else {
            guard let typed = Double(sparsity.text), typed.isFinite, typed > 0, typed < 1 else {
                return .failure(FormError(message: "sparsity must be a fraction between 0 and 1, e.g. 0.5"))
            }
            fraction = typed
        }
        let plan = PruningPlan(method: pruneMethod, sparsity: fraction, pattern: pattern, structured: structure)
        do {
            try plan.validate()
            return .success(plan)
        } catch {
            return .failure(FormError(message: (error as? WhittleError)?.message ?? "\(error)"))
        }
    }

    /// What the plan makes of the inspected model, or why it cannot be applied to it.
    public var pruningPrediction: Result<PruningPrediction, FormError>? {
        guard let inspection else { return nil }
        switch pruningPlan {
        case .failure(let error): return .failure(error)
        case .success(let plan):
            do {
                return .success(try plan.predict(config: inspection.config))
            } catch {
                return .failure(FormError(message: (error as? WhittleError)?.message ?? "\(error)"))
            }
        }
    }

    /// The request Apply sends for a prune pass, or what is wrong.
    public func pruneRequest() -> Result<PruneRequest, FormError> {
        guard let model, let inspection else {
            return .failure(FormError(message: inspectionError ?? "choose a model first (Enter on the model row)"))
        }
        guard inspection.isFloat else {
            return .failure(FormError(message: "\(model) holds quantized weights (\(inspection.formatSummary)); prune the fp32 model, then quantize"))
        }
        let plan: PruningPlan
        switch pruningPlan {
        case .failure(let error): return .failure(error)
        case .success(let valid): plan = valid
        }
        let samples = Int(self.samples.text) ?? 0
        guard samples >= 1 || !plan.needsCalibration else {
            return .failure(FormError(message: "\(plan.method.rawValue) needs a number of calibration windows of at least 1"))
        }
        if case .failure(let error)? = pruningPrediction { return .failure(error) }
        let out = output.text.trimmingWhitespace()
        guard !out.isEmpty else { return .failure(FormError(message: "name the output directory")) }
        return .success(PruneRequest(basePath: model, plan: plan, calibrationSamples: max(samples, 1), output: out))
    }

    /// "wanda50", "sparsegpt-2of4", "heads25-magnitude".
    var pruneOutputSuffix: String {
        let percent = Int(((Double(sparsity.text) ?? 0) * 100).rounded())
        if let structure { return "\(structure.rawValue)\(percent)-\(pruneMethod.rawValue)" }
        if let pattern { return "\(pruneMethod.rawValue)-\(pattern.keep)of\(pattern.group)" }
        return "\(pruneMethod.rawValue)\(percent)"
    }
}
