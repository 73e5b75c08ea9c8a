// The prune pass's prediction on the Compress screen, before anything runs: the weights file, bits
// per weight, memory and parameters of the base and of the predicted variant, said plainly (pruned
// single weights are smaller on disk but held and run dense; structured pruning shrinks the matrices).

import WhittleEngine

extension CompressView {
    static func renderPrunePrediction(_ state: AppState, _ theme: Theme, area: Rect, into screen: inout Screen) {
        let compress = state.compress
        guard let base = compress.inspection else { return }
        let g = state.glyphs
        renderPredictionTable(compress.pruningPrediction.map { prediction in
            prediction.map { p -> [PredictionRow] in
                let ratio = Double(base.weightsFileBytes) / Double(max(p.fileBytes, 1))
                let approximate = p.isExact ? "" : "about "
                let structured = compress.structure != nil
                return [
                    ("file", formatBytes(base.weightsFileBytes), formatBytes(p.fileBytes),
                     String(format: "%.2f%@ smaller", ratio, String(g.times)) + " (\(approximate)\(p.fileBytes) bytes, \(p.weightsFile))"),
                    ("bits/weight", String(format: "%.2f", base.bitsPerWeight), String(format: "%.2f", p.bitsPerWeight),
                     structured ? "" : "1-bit mask + kept fp32 values"),
                    ("memory", formatBytes(base.weightBytes), formatBytes(p.memoryBytes),
                     structured ? "smaller matrices: less work per token" : "held dense: no faster than the base"),
                    ("parameters", formatCount(base.parameterCount), formatCount(p.parameterCount),
                     structured ? "\(formatCount(p.prunedCount)) removed" : "\(formatCount(p.prunedCount)) set to zero"),
                ]
            }
        }, state, theme, area: area, into: &screen)
    }
}
