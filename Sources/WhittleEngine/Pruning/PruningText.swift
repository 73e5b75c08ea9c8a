// Words about a prune pass for model cards and the CLI: its title, its settings on one line, and
// what it buys in bytes and time, said plainly (an unstructured or N:M variant is smaller on disk
// but runs on the same dense kernels as its base; a structured one has smaller matrices).

import Foundation

public enum PruningText {
    /// "Wanda 50%", "SparseGPT 2:4", "Structured heads 17% (magnitude)".
    public static func title(_ plan: PruningPlan) -> String {
        let name: String = switch plan.method {
        case .magnitude: "Magnitude"
        case .wanda: "Wanda"
        case .sparsegpt: "SparseGPT"
        }
        if let unit = plan.structured { return "Structured \(unit.rawValue) \(percent(plan.sparsity)) (\(plan.method.rawValue))" }
        if let pattern = plan.pattern { return "\(name) \(pattern)" }
        return "\(name) \(percent(plan.sparsity))\(plan.scope == .global ? " global" : "")"
    }

    /// One line of settings: "method wanda, sparsity 0.5, pattern 2:4, per-tensor".
    public static func settings(_ plan: PruningPlan) -> String {
        var parts = ["method \(plan.method.rawValue)", "sparsity \(plan.sparsity)"]
        if let pattern = plan.pattern { parts.append("pattern \(pattern)") }
        if let unit = plan.structured { parts.append("structured \(unit.rawValue)") } else { parts.append(plan.scope.rawValue) }
        if plan.includeEmbedding { parts.append("token embedding included") }
        return parts.joined(separator: ", ")
    }

    /// The card's opening paragraph: what was pruned, how it is stored and whether it runs faster.
    public static func summary(_ plan: PruningPlan, variant: Variant) -> String {
        let dense = variant.parameterCount * 4
        if let unit = plan.structured {
            let importance = plan.method.traits.structuredImportance ?? ""
            return "A structurally pruned variant made by Whittle \(variant.whittleVersion): \(percent(plan.sparsity)) of every block's \(unit == .heads ? "attention heads" : "MLP neurons") removed, the least important first by \(plan.method.rawValue)'s score (\(importance)). The matrices are physically smaller (\(variant.parameterCount.formatted()) parameters), so the file is smaller and every product does less work; `\(variant.weightsFile)` is a plain Hugging Face GPT-2 directory (`n_inner` for the MLP width, `pruned_heads` naming each block's highest-numbered heads for blocks that lost heads: transformers 4.x shrinks those layers when it loads; transformers 5 ignores the key, so use `whittle export --format hf` for a dense copy it loads). `variant.json` holds the lineage."
        }
        let target = plan.pattern.map { "all but \($0.keep) of every \($0.group) consecutive weights of each row (the \($0) pattern)" }
            ?? "\(percent(plan.sparsity)) of the weights\(plan.scope == .global ? " (one threshold over every matrix)" : "")"
        let stored = variant.weightsFile == ModelDirectory.sparseWeightsName
            ? "The weights are stored as `\(variant.weightsFile)`: each pruned matrix a bitmap of kept weights (1 bit per weight) plus the kept values in fp32, \(variant.weightsFileBytes.formatted()) bytes against \(dense.formatted()) for the same parameters dense in fp32 (\(percent(Double(variant.weightsFileBytes) / Double(max(dense, 1)))))."
            : "The weights are `\(variant.weightsFile)`, \(variant.weightsFileBytes.formatted()) bytes."
        return "A pruned variant made by Whittle \(variant.whittleVersion): \(target) of every block matrix\(plan.includeEmbedding ? " and the token embedding (the tied head)" : "") set to exactly zero by \(plan.method.rawValue) (score \(plan.method.traits.score), compared within \(plan.method.traits.comparedWithin)\(plan.method.traits.updatesWeights ? ", with the kept weights updated to make up for the pruned ones" : "")). \(stored) In memory the zeros are ordinary fp32 weights and the model runs on the same dense kernels as its base: the sparse kernels measured on this CPU (`bench/sparse_gemv.c`: CSR, this bitmap, 2:4 positions) are slower than OpenBLAS's dense product at 50% sparsity on matrices that fit in the cache, and only a 2:4 kernel beats it, on larger memory-bound matrices, which Whittle's forward pass does not use yet (docs/PERFORMANCE.md); so this variant is smaller on disk but not faster (`whittle compare` measures both). `whittle export --format hf` writes a dense Hugging Face directory; `whittle train --set init_from=DIR` fine-tunes it with the mask kept."
    }

    static func percent(_ fraction: Double) -> String {
        let value = fraction * 100
        return value == value.rounded() ? String(format: "%.0f%%", value) : String(format: "%.1f%%", value)
    }
}
