// The Compress screen: the pass's form (model, pass, types, method and calibration samples, a target
// bits per weight, the output directory), and under it — before anything runs — what the plan
// predicts against the base: the weights file's size, bits per weight, the weights' memory and, with
// a sensitivity scan, the predicted KLD; the running pass's progress bar (F8 cancels, nothing is
// written) or how it ended; and the sensitivity map, tensors × types coloured by KLD, the plan's
// cell in each row marked and the cursor walked with the arrows. The prune pass shows its own rows
// (method, sparsity, pattern, structured) and its prediction (`CompressView+Prune.swift`), the distil
// pass the student's rows and its prediction against the teacher (`CompressView+Distil.swift`).

import Foundation
import WhittleEngine

enum CompressView {
    static func render(_ state: AppState, _ theme: Theme, into screen: inout Screen) {
        let compress = state.compress
        let g = state.glyphs
        let body = screen.bounds.inset(top: 1, bottom: 1)
        let inner = screen.box(body, title: "compress", glyphs: g, style: theme.style(.focusedDivider),
                               titleStyle: theme.style(.title, bold: true))
        guard inner.width > 20, inner.height > 8 else { return }
        let area = inner.inset(left: 1, right: 1)
        var y = area.y
        for field in compress.fields {
            renderField(field, state, theme, row: Rect(x: area.x, y: y, width: area.width, height: 1), into: &screen)
            y += 1
        }
        let predictionRows = switch compress.pass {
        case .prune: 5
        case .distil: 6
        case .quantize: compress.sensitivity == nil ? 4 : 5
        }
        let predictionArea = Rect(x: area.x, y: y, width: area.width, height: predictionRows)
        switch compress.pass {
        case .prune: renderPrunePrediction(state, theme, area: predictionArea, into: &screen)
        case .distil: renderDistilPrediction(state, theme, area: predictionArea, into: &screen)
        case .quantize: renderPrediction(state, theme, area: predictionArea, into: &screen)
        }
        y += predictionRows
        guard y < area.maxY else { return }
        renderStatus(state, theme, area: Rect(x: area.x, y: y, width: area.width, height: 1), into: &screen)
        y += 1
        var bottom = area.maxY
        if let error = compress.error, bottom - 1 > y {
            screen.put(error, in: area, row: bottom - 1, style: theme.style(.error, bold: true), ellipsis: g.ellipsis)
            bottom -= 1
        }
        if compress.pass == .quantize, compress.sensitivity != nil, bottom - y >= 2 {
            renderMap(state, theme, area: Rect(x: area.x, y: y, width: area.width, height: bottom - y), into: &screen)
        }
    }

    static func renderField(_ field: CompressState.Field, _ state: AppState, _ theme: Theme, row: Rect, into screen: inout Screen) {
        let compress = state.compress
        let g = state.glyphs
        let focused = compress.focus == field
        let label = focused ? theme.style(.highlight, bold: true) : theme.style(.inactiveForeground)
        screen.put(focused ? String(g.pointer) : " ", x: row.x, y: row.y, style: label)
        screen.put(field == .model && compress.pass == .distil ? "teacher" : field.label, x: row.x + 2, y: row.y, style: label)
        let value = Rect(x: row.x + 14, y: row.y, width: row.width - 14, height: 1)
        let left = String(g.arrowLeft), right = String(g.arrowRight)
        func choice(_ text: String, _ note: String) {
            let shown = focused ? "\(left) \(text) \(right)" : "  \(text)  "
            let x = screen.put(shown, x: value.x, y: row.y, style: focused ? theme.selected : theme.style(.highlight))
            screen.put("  " + note, in: Rect(x: x, y: row.y, width: value.maxX - x, height: 1), row: row.y,
                       style: theme.style(.inactiveForeground), ellipsis: g.ellipsis)
        }
        func text(_ field: TextField, _ width: Int, _ note: String) {
            let rect = Rect(x: value.x + 2, y: row.y, width: min(width, value.width - 2), height: 1)
            if focused {
                field.draw(into: &screen, area: rect, style: theme.input)
            } else {
                screen.put(String(field.text.prefix(rect.width)), x: rect.x, y: row.y, style: theme.style(.highlight))
            }
            screen.put("  " + note, in: Rect(x: rect.maxX, y: row.y, width: value.maxX - rect.maxX, height: 1), row: row.y,
                       style: theme.style(.inactiveForeground), ellipsis: g.ellipsis)
        }
        switch field {
        case .model:
            let path = compress.model ?? "(none: Enter chooses one)"
            let note = compress.inspectionError.map { "cannot read: " + $0 }
                ?? compress.inspection.map { "\($0.formatSummary), \(formatCount($0.parameterCount)) params" } ?? "reading..."
            let x = screen.put("  " + path, x: value.x, y: row.y, style: focused ? theme.selected : theme.style(.highlight))
            screen.put("  " + (compress.model == nil ? "" : note), in: Rect(x: x, y: row.y, width: value.maxX - x, height: 1),
                       row: row.y, style: theme.style(compress.inspectionError == nil ? .inactiveForeground : .error), ellipsis: g.ellipsis)
        case .pass:
            let note = switch compress.pass {
            case .quantize: "GGUF block types for the weights; also: prune, distil"
            case .prune: "zero single weights or remove whole heads / neurons; also: distil, quantize"
            case .distil: "train a smaller student on the teacher's logits; also: quantize, prune"
            }
            choice(compress.pass.rawValue, note)
        case .pruneMethod:
            let score = compress.pruneMethod.traits.score + (compress.pruneMethod.traits.needsCalibration ? " (calibrated)" : "")
            choice(compress.pruneMethod.rawValue, "score " + (state.useASCII ? asciiOnly(score) : score))
        case .sparsity:
            text(compress.sparsity, 6, compress.pattern == nil
                 ? (compress.structure == nil ? "fraction of each matrix's weights set to zero" : "fraction of each block's units removed")
                 : "the pattern fixes it at \(compress.pattern!.sparsity)")
        case .pattern:
            choice(compress.pattern?.description ?? "none", compress.pattern == nil ? "N:M: keep N of every M inputs of a row"
                   : "keep \(compress.pattern!.keep) of every \(compress.pattern!.group) consecutive inputs of each row")
        case .structure:
            choice(compress.structure?.rawValue ?? "no", compress.structure == nil ? "single weights (stored as bitmap + kept values)"
                   : "remove whole \(compress.structure!.rawValue): smaller matrices that run faster")
        case .type: choice(compress.type.rawValue, "the matrices (GGUF blocks, reference rounding)")
        case .embedding: choice(compress.embedding.rawValue, "the token embedding, also the tied output head")
        case .method:
            let note = switch compress.method {
            case .rtn: "round to nearest"
            case .imatrix: "importance-weighted block grids (calibrated)"
            case .gptq: "error feedback through the inverse Hessian (calibrated)"
            case .awq: "activation-aware scaling, then round to nearest (calibrated)"
            }
            choice(compress.method.rawValue, note)
        case .samples:
            let calibrated = compress.pass == .prune ? (try? compress.pruningPlan.get())?.needsCalibration ?? true : compress.method.needsCalibration
            text(compress.samples, 6, calibrated ? "calibration windows from the base's train split"
                 : "windows (\(compress.pass == .prune ? compress.pruneMethod.rawValue : compress.method.rawValue) uses none)")
        case .target: text(compress.target, 6, "bits per weight: picks the largest type that fits (empty: use the type)")
        case .output: text(compress.output, 40, compress.pass == .distil ? "a new run; its student variant: RUN/student" : "a new variant directory")
        case .studentLayers: text(compress.distil.layers, 5, distilNote(field, compress))
        case .studentWidth: text(compress.distil.width, 5, distilNote(field, compress))
        case .studentHeads: text(compress.distil.heads, 5, distilNote(field, compress))
        case .alpha: text(compress.distil.alpha, 5, distilNote(field, compress))
        case .temperature: text(compress.distil.temperature, 5, distilNote(field, compress))
        case .steps: text(compress.distil.steps, 7, distilNote(field, compress))
        case .studentInit: choice(compress.distil.studentInit.rawValue, distilNote(field, compress))
        case .map:
            switch compress.scan {
            case .running(let activity, let fraction):
                let bar = Rect(x: value.x + 2, y: row.y, width: min(20, value.width / 3), height: 1)
                Bars.meter(into: &screen, area: bar, fraction: fraction, style: theme.style(.ok), emptyStyle: theme.style(.divider), glyphs: g)
                screen.put(String(format: " %3.0f%% scanning ", fraction * 100) + activity + " (F8 cancels)",
                           in: Rect(x: bar.maxX, y: row.y, width: value.maxX - bar.maxX, height: 1), row: row.y,
                           style: theme.style(.warning), ellipsis: g.ellipsis)
            case .cancelling:
                screen.put("  cancelling the scan...", in: value, row: row.y, style: theme.style(.warning), ellipsis: g.ellipsis)
            case .failed(let message):
                screen.put("  scan failed: " + message, in: value, row: row.y, style: theme.style(.error), ellipsis: g.ellipsis)
            default:
                let note = compress.sensitivity.map { map in
                    "  \(map.rows.count) tensors × \(map.formats.count) types below; ↑↓←→ walk, Enter sets a tensor's type"
                } ?? "  F6 scans: KLD of each tensor alone at each type, on calibration windows"
                screen.put(state.useASCII ? note.replacingOccurrences(of: "×", with: "x").replacingOccurrences(of: "↑↓←→", with: "arrows") : note,
                           in: value, row: row.y, style: theme.style(.inactiveForeground), ellipsis: g.ellipsis)
            }
        }
    }

    /// `text` with the engine's mathematical signs spelled in ASCII (for --ascii and non-UTF-8 locales).
    static func asciiOnly(_ text: String) -> String {
        let spelled: [Character: String] = ["·": "*", "‖": "|", "²": "^2", "×": "x", "⁻": "^-", "¹": "1", "√": "sqrt", "→": "->", "≤": "<="]
        return text.reduce(into: "") { out, c in
            if c.isASCII { out.append(c) } else { out += spelled[c] ?? "?" }
        }
    }

    /// The prediction table: base and variant, file size, bits per weight, memory.
    static func renderPrediction(_ state: AppState, _ theme: Theme, area: Rect, into screen: inout Screen) {
        let compress = state.compress
        guard let base = compress.inspection else { return }
        let g = state.glyphs
        renderPredictionTable(compress.prediction.map { prediction in
            prediction.map { p -> [PredictionRow] in
                let ratio = Double(base.weightsFileBytes) / Double(max(p.fileBytes ?? 0, 1))
                return [
                    ("file", formatBytes(base.weightsFileBytes), formatBytes(p.fileBytes ?? 0),
                     String(format: "%.2f%@ smaller", ratio, String(g.times)) + " (\(p.fileBytes ?? 0) bytes)"),
                    ("bits/weight", String(format: "%.2f", base.bitsPerWeight), String(format: "%.2f", p.bitsPerWeight), ""),
                    ("memory", formatBytes(base.weightBytes), formatBytes(p.weightBytes), "weights held for inference"),
                ] + (compress.sensitivity == nil ? [] : [
                    ("KLD (map)", "0", compress.predictedDivergence.map { String(format: "%.5f", $0) } ?? "?",
                     "the scan's per-tensor KLDs added" + (compress.assignment == nil ? "" : "; plan chosen per tensor")),
                ])
            }
        }, state, theme, area: area, into: &screen)
    }

    /// One row of a prediction table: what, the base's figure, the variant's, a note.
    typealias PredictionRow = (label: String, base: String, variant: String, note: String)

    /// "before applying | base | predicted variant", then the rows (or the error that stops the prediction).
    static func renderPredictionTable(_ rows: Result<[PredictionRow], FormError>?, _ state: AppState, _ theme: Theme,
                                      area: Rect, into screen: inout Screen,
                                      columns: (base: String, variant: String) = ("base", "predicted variant")) {
        let g = state.glyphs
        let label = theme.style(.inactiveForeground)
        let header = theme.style(.title, bold: true)
        screen.put("before applying", x: area.x, y: area.y, style: header)
        screen.put(columns.base, x: area.x + 16, y: area.y, style: header)
        screen.put(columns.variant, x: area.x + 30, y: area.y, style: header)
        switch rows {
        case .failure(let error)?:
            screen.put(error.message, in: Rect(x: area.x, y: area.y + 1, width: area.width, height: 1), row: area.y + 1,
                       style: theme.style(.error), ellipsis: g.ellipsis)
        case .success(let rows)?:
            for (i, row) in rows.enumerated() {
                let y = area.y + 1 + i
                screen.put(row.label, x: area.x, y: y, style: label)
                screen.put(row.base, x: area.x + 16, y: y, style: theme.base)
                let x = screen.put(row.variant, x: area.x + 30, y: y, style: theme.style(.ok, bold: true))
                screen.put("  " + row.note, in: Rect(x: x, y: y, width: area.maxX - x, height: 1), row: y, style: label,
                           ellipsis: g.ellipsis)
            }
        case nil: break
        }
    }

    static func renderStatus(_ state: AppState, _ theme: Theme, area: Rect, into screen: inout Screen) {
        let g = state.glyphs
        let row = Rect(x: area.x, y: area.y, width: area.width, height: 1)
        switch state.compress.status {
        case .idle:
            screen.put(state.compress.pass == .distil
                       ? "Enter trains the student, then it opens in Compare (F3). F8 cancels and removes the run: nothing is left."
                       : "Enter applies the pass; the new variant opens in Compare (F3). Nothing is written until it completes.",
                       in: row, row: row.y, style: theme.style(.inactiveForeground), ellipsis: g.ellipsis)
        case .running(let activity, let fraction):
            renderProgress(activity, fraction, state, theme, row: row, into: &screen)
        case .cancelling:
            renderProgress(state.compress.pass == .distil ? "cancelling at the next step..." : "cancelling between tensors...", 0,
                           state, theme, row: row, into: &screen)
        case .finished(let directory):
            screen.put("made \(directory) (F3: Compare)", in: row, row: row.y, style: theme.style(.ok, bold: true), ellipsis: g.ellipsis)
        case .failed(let message):
            screen.put("pass failed: " + message, in: row, row: row.y, style: theme.style(.error, bold: true), ellipsis: g.ellipsis)
        case .cancelled:
            screen.put("pass cancelled; nothing was written", in: row, row: row.y, style: theme.style(.warning, bold: true),
                       ellipsis: g.ellipsis)
        }
    }

    /// A progress bar, what the pass is doing, and how to cancel it.
    static func renderProgress(_ activity: String, _ fraction: Double, _ state: AppState, _ theme: Theme, row: Rect,
                               into screen: inout Screen) {
        let bar = Rect(x: row.x, y: row.y, width: min(30, row.width / 3), height: 1)
        Bars.meter(into: &screen, area: bar, fraction: fraction, style: theme.style(.ok), emptyStyle: theme.style(.divider),
                   glyphs: state.glyphs)
        screen.put(String(format: " %3.0f%% ", fraction * 100) + activity + "  (F8 cancels)",
                   in: Rect(x: bar.maxX, y: row.y, width: row.maxX - bar.maxX, height: 1), row: row.y,
                   style: theme.style(.warning), ellipsis: state.glyphs.ellipsis)
    }

    /// The sensitivity map: one row per tensor, one column per type, each cell the KLD to the base when
    /// that tensor alone takes that type; the plan's type in each row in brackets, the cursor reversed.
    static func renderMap(_ state: AppState, _ theme: Theme, area: Rect, into screen: inout Screen) {
        let compress = state.compress
        guard let map = compress.sensitivity, let assignment = compress.currentAssignment else { return }
        let g = state.glyphs
        let formats = compress.mapFormats
        let cell = 9
        let nameWidth = max(min(area.width - formats.count * cell, 24), 8)
        var x = screen.put(String(repeating: " ", count: nameWidth), x: area.x, y: area.y, style: theme.base)
        for format in formats {
            x = screen.put(Table.aligned(format.rawValue, width: cell, alignment: .center, ellipsis: g.ellipsis), x: x, y: area.y,
                           style: theme.style(.title, bold: true))
        }
        let visible = area.height - 1
        let first = max(0, min(compress.mapRow - visible + 1, map.rows.count - visible))
        let onMap = compress.focus == .map
        for (line, index) in (first..<min(first + visible, map.rows.count)).enumerated() {
            let row = map.rows[index]
            let y = area.y + 1 + line
            let selectedRow = onMap && index == compress.mapRow
            screen.put(Table.aligned(row.tensor, width: nameWidth, alignment: .left, ellipsis: g.ellipsis), x: area.x, y: y,
                       style: selectedRow ? theme.style(.highlight, bold: true) : theme.style(.inactiveForeground))
            for (column, format) in formats.enumerated() {
                let chosen = assignment[index] == format
                let text: String
                let key: ThemeKey
                if let kld = row.kld(format) {
                    let value = format == .f32 ? "0" : String(format: "%.1e", kld)
                    text = chosen ? "[\(value)]" : value
                    key = kld < 1e-4 ? .ok : kld < 1e-3 ? .warning : .error
                } else {
                    text = "-"
                    key = .inactiveForeground
                }
                var style = theme.style(key, bold: chosen)
                if selectedRow && column == compress.mapColumn { style = style.reversed() }
                screen.put(Table.aligned(text, width: cell, alignment: .center, ellipsis: g.ellipsis),
                           x: area.x + nameWidth + column * cell, y: y, style: style)
            }
        }
    }
}
