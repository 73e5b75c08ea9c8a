// What a prune pass does: the method, the target (a fraction of weights per tensor or global, an
// N:M pattern, or whole heads / MLP neurons) and which tensors. The block matrices are the targets;
// the token embedding (also the tied head) only when asked; the position table, LayerNorms and
// biases never. `validate` refuses every impossible request with a message naming the fix.

/// An N:M sparsity pattern: `keep` weights kept in every `group` consecutive inputs of a row (2:4).
public struct SparsityPattern: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var keep: Int
    public var group: Int

    public init(keep: Int, group: Int) {
        self.keep = keep
        self.group = group
    }

    /// The fraction of weights pruned: 1 − N/M.
    public var sparsity: Double { 1 - Double(keep) / Double(group) }
    public var description: String { "\(keep):\(group)" }

    /// Parses "N:M" with 1 ≤ N < M ≤ 64.
    public static func parse(_ text: String) throws -> SparsityPattern {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let keep = Int(parts[0]), let group = Int(parts[1]), keep >= 1, group > keep, group <= 64 else {
            throw WhittleError.config("'\(text)' is not an N:M pattern", hint: "write N:M with 1 ≤ N < M ≤ 64, e.g. 2:4 or 4:8")
        }
        return SparsityPattern(keep: keep, group: group)
    }
}

/// A prune pass's settings.
public struct PruningPlan: Equatable, Sendable {
    /// Whole units removed by structured pruning.
    public enum StructuredUnit: String, CaseIterable, Equatable, Sendable {
        case heads, neurons
    }

    /// Where an unstructured target's fraction applies.
    public enum Scope: String, CaseIterable, Equatable, Sendable {
        /// Each targeted tensor loses `sparsity` of its weights.
        case perTensor = "per-tensor"
        /// One threshold over every targeted tensor (magnitude only).
        case global
    }

    public var method: PruningMethod
    /// Fraction of weights (or of each block's heads / neurons) removed, in [0, 1).
    public var sparsity: Double
    public var pattern: SparsityPattern?
    public var structured: StructuredUnit?
    public var scope: Scope
    /// Prune the token embedding (= the tied output head) too.
    public var includeEmbedding: Bool

    public init(method: PruningMethod, sparsity: Double, pattern: SparsityPattern? = nil, structured: StructuredUnit? = nil,
                scope: Scope = .perTensor, includeEmbedding: Bool = false) {
        self.method = method
        self.sparsity = sparsity
        self.pattern = pattern
        self.structured = structured
        self.scope = scope
        self.includeEmbedding = includeEmbedding
    }

    /// Whether the pass needs calibration statistics.
    public var needsCalibration: Bool { structured == nil ? method.traits.needsCalibration : method == .wanda }

    /// Throws `.config` for a request that cannot be carried out on any model.
    public func validate() throws {
        guard sparsity.isFinite, sparsity >= 0, sparsity < 1 else {
            throw WhittleError.config("sparsity \(sparsity) is outside [0, 1)", hint: "give the fraction of weights to prune, e.g. --sparsity 0.5")
        }
        if let structured {
            guard pattern == nil else {
                throw WhittleError.config("an N:M pattern (\(pattern!)) cannot be asked of structured pruning (--structured \(structured.rawValue))",
                                          hint: "N:M patterns prune single weights; drop --pattern, or drop --structured")
            }
            guard method.traits.structuredImportance != nil else {
                throw WhittleError.config("\(method.rawValue) has no structured form",
                                          hint: "use --method magnitude (weight norms) or --method wanda (calibration activations) with --structured")
            }
            guard scope == .perTensor, !includeEmbedding else {
                throw WhittleError.config("structured pruning removes the same share of heads or neurons from every block",
                                          hint: "drop --scope global and --include-embedding with --structured")
            }
            guard sparsity > 0 else {
                throw WhittleError.config("--sparsity 0 removes no \(structured.rawValue)", hint: "give the fraction of each block's \(structured.rawValue) to remove, e.g. 0.25")
            }
        }
        if let pattern, sparsity != 0, abs(sparsity - pattern.sparsity) > 1e-9 {
            throw WhittleError.config("--sparsity \(sparsity) disagrees with the pattern \(pattern), which prunes \(pattern.sparsity)",
                                      hint: "leave --sparsity out with --pattern (the pattern fixes it)")
        }
        if scope == .global {
            guard method.traits.supportsGlobalScope else {
                throw WhittleError.config("\(method.rawValue) compares weights within \(method.traits.comparedWithin); it has no global threshold",
                                          hint: "use --scope per-tensor, or --method magnitude for one threshold over every tensor")
            }
            guard pattern == nil else {
                throw WhittleError.config("an N:M pattern applies within each group of a row; it has no global threshold", hint: "drop --scope global")
            }
        }
    }

    /// The fraction actually pruned of each targeted tensor (the pattern's when there is one).
    public var effectiveSparsity: Double { pattern?.sparsity ?? sparsity }

    /// Whether `tensor` is a target of this plan.
    public func targets(_ tensor: ParameterTensor) -> Bool {
        tensor.role.isLinearWeight || (includeEmbedding && tensor.role == .tokenEmbedding)
    }

    /// Checks the plan against a model's tensors: every targeted row must be whole N:M groups.
    public func check(layout: ParameterLayout) throws {
        guard let pattern, structured == nil else { return }
        for tensor in layout.tensors where targets(tensor) {
            let inputs = tensor.orientation == .inputMajor ? tensor.shape[0] : tensor.shape[1]
            guard inputs % pattern.group == 0 else {
                throw WhittleError.config("\(tensor.name) has rows of \(inputs) inputs, which groups of \(pattern.group) (pattern \(pattern)) do not divide",
                                          hint: "choose a pattern whose M divides \(inputs) (2:4 needs a multiple of 4, 4:8 of 8)")
            }
        }
    }
}
