// The pruning methods, one table entry each: what a weight's score is, which weights it is compared
// with, and whether it needs calibration text. Unstructured targets prune single weights (every
// method, with or without an N:M pattern); structured targets remove whole attention heads or MLP
// neurons and score them as the method says (magnitude: weights only; Wanda: calibration activations).

/// How pruning scores weights.
public enum PruningMethod: String, CaseIterable, Equatable, Sendable {
    /// |w|: the smallest weights go (per tensor, or one threshold over every targeted tensor).
    case magnitude
    /// Wanda (Sun et al. 2023): |w_rk| · ‖x_k‖₂, the input's norm over the calibration tokens
    /// (√H_kk), compared within each output row.
    case wanda
    /// SparseGPT (Frantar & Alistarh 2023): saliency w² / [H⁻¹]-factor², chosen block by block with
    /// the optimal-brain-surgeon update of the kept weights.
    case sparsegpt

    /// What the method reads and how it compares.
    public struct Traits: Equatable, Sendable {
        /// The score, in words (for help text and model cards).
        public var score: String
        /// Which weights are compared with each other for an unstructured target.
        public var comparedWithin: String
        /// Whether it needs calibration statistics (input Hessians) for unstructured pruning.
        public var needsCalibration: Bool
        /// Whether one threshold over every targeted tensor (`--scope global`) is possible.
        public var supportsGlobalScope: Bool
        /// Whether it changes the kept weights.
        public var updatesWeights: Bool
        /// The structured (head/neuron) importance it stands for, or nil when it has none.
        public var structuredImportance: String?
    }

    public var traits: Traits {
        switch self {
        case .magnitude:
            Traits(score: "|w|", comparedWithin: "the tensor (or every targeted tensor, --scope global)",
                   needsCalibration: false, supportsGlobalScope: true, updatesWeights: false,
                   structuredImportance: "weights only: a head's ‖W_v,h‖·‖W_o,h‖ (its value columns and output rows), a neuron's ‖W_fc,j‖·‖W_proj,j‖")
        case .wanda:
            Traits(score: "|w| · ‖x‖ (input norm over the calibration tokens)", comparedWithin: "each output row",
                   needsCalibration: true, supportsGlobalScope: false, updatesWeights: false,
                   structuredImportance: "calibration activations: the output energy a unit adds, Σ_tokens ‖o_h·W_o,h‖² per head, mean g_j²·‖W_proj,j‖² per neuron")
        case .sparsegpt:
            Traits(score: "w² / U_kk² (OBS saliency, U the Cholesky factor of H⁻¹)", comparedWithin: "each 128-column block (N:M: each group of a row)",
                   needsCalibration: true, supportsGlobalScope: false, updatesWeights: true, structuredImportance: nil)
        }
    }

    /// Parses a method name (`.config` error listing the methods).
    public static func named(_ name: String) throws -> PruningMethod {
        guard let method = PruningMethod(rawValue: name.lowercased()) else {
            throw WhittleError.config("unknown pruning method '\(name)'",
                                      hint: "methods: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return method
    }
}
