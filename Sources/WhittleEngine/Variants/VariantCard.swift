// A variant's model card (`README.md`): what the variant is, the command that made it, its size on
// disk and bits per weight, the per-tensor plan summarised by type, and the measured metrics once
// evaluation has recorded them. Everything comes from `variant.json`, so recording metrics later
// rewrites the card from the same source.

import Foundation

public enum VariantCard {
    /// Markdown for `variant`.
    public static func markdown(_ variant: Variant) -> String {
        var lines: [String] = []
        switch variant.passes.last!.settings {
        case .quantize(let method, let plan):
            let methodName = method == .rtn ? "round to nearest (GGUF's reference quantizers)" : method.rawValue
            lines.append("# \(plan.defaultFormat.rawValue.uppercased()) variant of `\(variant.base.path)`")
            lines.append("")
            lines.append("A quantized variant made by Whittle \(variant.whittleVersion): matrices \(plan.defaultFormat.rawValue), token embedding (the tied output head) \(plan.embeddingFormat.rawValue)\(plan.rules.isEmpty ? "" : ", with \(plan.rules.count) per-tensor rule\(plan.rules.count == 1 ? "" : "s")"), by \(methodName). The weights are `\(variant.weightsFile)`, a GGUF v3 file in llama.cpp's `gpt2` layout with the tokenizer inside; `variant.json` holds the lineage.")
        case .prune(let plan):
            lines.append("# \(PruningText.title(plan)) variant of `\(variant.base.path)`")
            lines.append("")
            lines.append(PruningText.summary(plan, variant: variant))
        case .distill(let recipe):
            lines.append("# Distilled student of `\(recipe.teacher.path)`")
            lines.append("")
            lines.append("A student made by Whittle \(variant.whittleVersion) with knowledge distillation (\(recipe.settingsLine)); `variant.json` holds the lineage.")
        }
        lines.append("")
        lines.append("## How it was made")
        lines.append("")
        lines.append("```sh")
        lines.append(variant.command)
        lines.append("```")
        lines.append("")
        lines.append("| | |")
        lines.append("|---|---|")
        lines.append("| base | `\(variant.base.path)` (`\(variant.base.weightsFile)`, SHA-256 `\(variant.base.sha256)`) |")
        for (index, pass) in variant.passes.enumerated() {
            switch pass.settings {
            case .quantize(let method, let plan):
                let rules = plan.rules.map { "`\($0.pattern)=\($0.format.rawValue)`" }.joined(separator: ", ")
                lines.append("| pass \(index + 1) | \(pass.kind.rawValue), method \(method.rawValue), type \(plan.defaultFormat.rawValue), embedding \(plan.embeddingFormat.rawValue)\(rules.isEmpty ? "" : ", rules \(rules)") |")
            case .prune(let plan):
                lines.append("| pass \(index + 1) | prune, \(PruningText.settings(plan)) |")
            case .distill(let recipe):
                lines.append("| pass \(index + 1) | distill, \(recipe.settingsLine) |")
            }
            if let text = pass.calibrationText {
                lines.append("| calibration | \(text), \(pass.calibrationSamples.map(String.init) ?? "all") samples, seed \(pass.calibrationSeed.map(String.init) ?? "-") |")
            }
        }
        lines.append("| size on disk | \(variant.weightsFileBytes.formatted()) bytes (`\(variant.weightsFile)`) |")
        lines.append("| bits per weight | \(String(format: "%.3f", variant.bitsPerWeight)) (every parameter, scales included; \(variant.parameterCount.formatted()) parameters) |")
        lines.append("")
        lines.append("## Per-tensor plan")
        lines.append("")
        lines.append("| type | bits/weight | tensors |")
        lines.append("|---|---|---|")
        for (format, count) in variant.formatCounts {
            let names = summarize(variant.plan.filter { $0.format == format }.map(\.tensor))
            lines.append("| \(format.rawValue) | \(String(format: "%.1f", format.bitsPerWeight)) | \(count): \(names) |")
        }
        lines.append("")
        lines.append("Vectors (LayerNorms, biases) and the position table stay f32. The full plan is in `variant.json`.")
        lines.append("")
        lines.append("## Measured")
        lines.append("")
        if case .object(let members) = variant.metrics, !members.isEmpty {
            lines.append("| metric | value |")
            lines.append("|---|---|")
            for member in members { lines.append("| \(member.key) | \(cell(member.value)) |") }
        } else {
            lines.append("Not recorded yet (`whittle eval --model DIR` measures it; `Variant.recordMetrics` stores figures here and in `variant.json`).")
        }
        lines.append("")
        lines.append("## Use")
        lines.append("")
        lines.append("```sh")
        lines.append("whittle generate --model DIR --prompt \"ROMEO:\"")
        lines.append("whittle eval --model DIR")
        lines.append("```")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Tensor names grouped by kind across blocks: `h.*.mlp.c_fc.weight (4 blocks), wte.weight`.
    static func summarize(_ names: [String]) -> String {
        var order: [String] = []
        var counts: [String: Int] = [:]
        for name in names {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            let kind = parts.count > 2 && parts[0] == "h" && Int(parts[1]) != nil ? "h.*." + parts[2...].joined(separator: ".") : name
            if counts[kind] == nil { order.append(kind) }
            counts[kind, default: 0] += 1
        }
        return order.map { kind in
            kind.hasPrefix("h.*.") ? "`\(kind)` (\(counts[kind]!) block\(counts[kind]! == 1 ? "" : "s"))" : "`\(kind)`"
        }.joined(separator: ", ")
    }

    static func cell(_ value: JSONValue) -> String {
        switch value {
        case .number(let text): text
        case .string(let text): text
        case .bool(let flag): String(flag)
        case .null: "-"
        case .array, .object: "`\(value.serialized())`"
        }
    }
}
