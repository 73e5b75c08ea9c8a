// The prune pass's prediction on the Compress screen, before anything runs: the weights file, bits
// per weight, memory and parameters of the base and of the predicted variant, said plainly (pruned
// single weights are smaller on disk but held and run dense; structured pruning shrinks the matrices).

import WhittleEngine

extension CompressView {
    static func renderPrunePrediction(_ state: AppState, _ theme: Theme, area: Rect, into screen: inout Screen) {
        let compress = state.compress
        guard let base = compress.inspection else { return }
        let g = state.glyphs
        let label = theme.style(.inactiveForeground)
        let header = theme.style(.title, bold: true)
        screen.put("before applying", x: area.x, y: area.y, style: header)
        screen.put("base", x: area.x + 16, y: area.y, style: header)
        screen.put("predicted variant", x: area.x + 30, y: area.y, style: header)
        switch compress.pruningPrediction {
        case .failure(let error)?:
            screen.put(error.message, in: Rect(x: area.x, y: area.y + 1, width: area.width, height: 1), row: area.y + 1,
                       style: theme.style(.error), ellipsis: g.ellipsis)
        case .success(let p)?:
            let ratio = Double(base.weightsFileBytes) / Double(max(p.fileBytes, 1))
            let approximate = p.isExact ? "" : "about "
            let structured = compress.structure != nil
            let rows: [(String, String, String, String)] = [
                ("file", formatBytes(base.weightsFileBytes), formatBytes(p.fileBytes),
                 String(format: "%.2f%@ smaller", ratio, String(g.times)) + " (\(approximate)\(p.fileBytes) bytes, \(p.weightsFile))"),
                ("bits/weight", String(format: "%.2f", base.bitsPerWeight), String(format: "%.2f", p.bitsPerWeight),
                 structured ? "" : "1-bit mask + kept fp32 values"),
                ("memory", formatBytes(base.weightBytes), formatBytes(p.memoryBytes),
                 structured ? "smaller matrices: less work per token" : "held dense: no faster than the base"),
                ("parameters", formatCount(base.parameterCount), formatCount(p.parameterCount),
                 structured ? "\(formatCount(p.prunedCount)) removed" : "\(formatCount(p.prunedCount)) set to zero"),
            ]
            for (i, row) in rows.enumerated() {
                let y = area.y + 1 + i
                screen.put(row.0, x: area.x, y: y, style: label)
                screen.put(row.1, x: area.x + 16, y: y, style: theme.base)
                let x = screen.put(row.2, x: area.x + 30, y: y, style: theme.style(.ok, bold: true))
                screen.put("  " + row.3, in: Rect(x: x, y: y, width: area.maxX - x, height: 1), row: y, style: label,
                           ellipsis: g.ellipsis)
            }
        case nil: break
        }
    }
}
