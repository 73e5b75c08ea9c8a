// The distil pass on the Compress screen: each student row's note (what the teacher has, what the
// setting does), and the prediction before anything trains — the student's weights file, bits per
// weight, memory and parameters next to the teacher's, and the training it costs (steps × tokens per
// step, and the student's share of the time at the assumed FLOP rate).

import Foundation
import WhittleEngine

extension CompressView {
    /// The note beside a distil row.
    static func distilNote(_ field: CompressState.Field, _ compress: CompressState) -> String {
        let teacher = compress.inspection?.config
        switch field {
        case .studentLayers: return "blocks" + (teacher.map { " (the teacher has \($0.layerCount))" } ?? "")
        case .studentWidth: return "n_embd" + (teacher.map { " (the teacher's: \($0.embeddingWidth))" } ?? "")
        case .studentHeads: return "attention heads; must divide the width" + (teacher.map { " (the teacher's: \($0.headCount))" } ?? "")
        case .studentInit:
            return compress.distil.studentInit == .teacherLayers
                ? "copy the embeddings and every k-th block (same width and heads)" : "random initialisation from the seed"
        case .alpha: return "weight of the teacher's KL; 1 - alpha on cross-entropy"
        case .temperature: return "softens both distributions; the KL is scaled by T^2"
        case .steps: return "max_iters; the rest of the teacher's config.toml (text, context, batch) is kept"
        default: return ""
        }
    }

    static func renderDistilPrediction(_ state: AppState, _ theme: Theme, area: Rect, into screen: inout Screen) {
        let compress = state.compress
        guard let teacher = compress.inspection else { return }
        let g = state.glyphs
        renderPredictionTable(compress.distillationPrediction.map { prediction in
            prediction.map { p -> [PredictionRow] in
                let ratio = Double(teacher.weightsFileBytes) / Double(max(p.fileBytes, 1))
                let m = p.model
                return [
                    ("file", formatBytes(teacher.weightsFileBytes), formatBytes(p.fileBytes),
                     String(format: "%.2f%@ smaller", ratio, String(g.times)) + " (\(p.fileBytes) bytes, \(ModelDirectory.weightsName))"),
                    ("bits/weight", String(format: "%.2f", teacher.bitsPerWeight), String(format: "%.2f", p.bitsPerWeight), "fp32"),
                    ("memory", formatBytes(teacher.weightBytes), formatBytes(p.memoryBytes), "weights held for inference"),
                    ("parameters", formatCount(teacher.parameterCount), formatCount(p.parameterCount),
                     "\(m.layerCount) \(g.times) \(m.embeddingWidth), \(m.headCount) heads, context \(m.contextLength)"),
                    ("training", "", "\(p.steps) steps",
                     "\(g.times) \(NumberFormat.grouped(p.tokensPerStep)) tokens = \(NumberFormat.grouped(p.tokens)) tokens;"
                        + " ~\(NumberFormat.duration(p.estimatedSeconds)) by the FLOP estimate (the student's share)"),
                ]
            }
        }, state, theme, area: area, into: &screen, columns: ("teacher", "predicted student"))
    }

}
