// The Compare screen: the evaluation text and the measurement's progress on top; the table of the
// base and every variant (the columns of `whittle compare`, every number formatted from the same
// report `whittle compare --json` prints), sortable, with "smaller?", "faster?" and "worse by" in
// words and colour; the selected model's details in the CLI's own words; and below, the Pareto plot
// of quality against file size or decode latency (the selection highlighted there too), or the
// side-by-side generation.

import Foundation
import WhittleEngine

enum CompareView {
    static func render(_ state: AppState, _ theme: Theme, into screen: inout Screen) {
        let compare = state.compare
        let g = state.glyphs
        let body = screen.bounds.inset(top: 1, bottom: 1)
        let inner = screen.box(body, title: "compare", glyphs: g, style: theme.style(.focusedDivider),
                               titleStyle: theme.style(.title, bold: true))
        guard inner.width > 20, inner.height > 8 else { return }
        let area = inner.inset(left: 1, right: 1)
        var y = area.y
        renderData(state, theme, row: Rect(x: area.x, y: y, width: area.width, height: 1), into: &screen)
        y += 1
        renderStatus(state, theme, row: Rect(x: area.x, y: y, width: area.width, height: 1), into: &screen)
        y += 1
        guard let report = compare.report else {
            renderEmpty(state, theme, area: Rect(x: area.x, y: y + 1, width: area.width, height: area.maxY - y - 1), into: &screen)
            return
        }
        let tableHeight = min(report.models.count + 1, max((area.maxY - y) / 2 - 2, 2))
        renderTable(state, report, theme, area: Rect(x: area.x, y: y, width: area.width, height: tableHeight), into: &screen)
        y += tableHeight
        if let row = report.models[safe: compare.selected] {
            renderDetails(state, row, theme, area: Rect(x: area.x, y: y, width: area.width, height: 2), into: &screen)
        }
        y += 2
        guard area.maxY - y >= 5 else { return }
        screen.fill(Rect(x: inner.x, y: y, width: inner.width, height: 1), with: g.horizontal, style: theme.style(.divider))
        let bottom = Rect(x: area.x, y: y + 1, width: area.width, height: area.maxY - y - 1)
        if let sideBySide = compare.sideBySide {
            renderSideBySide(sideBySide, state, theme, area: bottom, into: &screen)
        } else if let errors = compare.tensorErrors {
            renderTensorErrors(errors, state, theme, area: bottom, into: &screen)
        } else {
            renderPlot(state, report, theme, area: bottom, into: &screen)
        }
    }

    // MARK: - Text, status and the empty state

    static func renderData(_ state: AppState, _ theme: Theme, row: Rect, into screen: inout Screen) {
        let compare = state.compare
        let label = theme.style(.inactiveForeground)
        var x = screen.put("text ", x: row.x, y: row.y, style: label)
        if compare.editingData {
            compare.data.draw(into: &screen, area: Rect(x: x, y: row.y, width: min(row.maxX - x, 50), height: 1), style: theme.input)
            screen.put("  empty: the base's validation split", in: Rect(x: x + 50, y: row.y, width: row.maxX - x - 50, height: 1),
                       row: row.y, style: label, ellipsis: state.glyphs.ellipsis)
            return
        }
        if compare.editingPrompt {
            x = screen.put("prompt ", x: row.x, y: row.y, style: label)
            compare.prompt.draw(into: &screen, area: Rect(x: x, y: row.y, width: min(row.maxX - x, 50), height: 1), style: theme.input)
            return
        }
        let text: String
        if let report = compare.report {
            text = "\(report.data): \(report.tokens) tokens in \(report.windows) windows of \(report.contextLength)"
                + (report.skippedCharacters > 0 ? " (\(report.skippedCharacters) unknown characters skipped)" : "")
        } else {
            text = compare.dataPath ?? "the base's validation split"
        }
        screen.put(text, in: Rect(x: x, y: row.y, width: row.maxX - x, height: 1), row: row.y, style: theme.base,
                   ellipsis: state.glyphs.ellipsis)
    }

    static func renderStatus(_ state: AppState, _ theme: Theme, row: Rect, into screen: inout Screen) {
        let g = state.glyphs
        switch state.compare.status {
        case .idle:
            screen.put("a adds models (the first is the base); a finished Compress pass adds its variant", in: row,
                       row: row.y, style: theme.style(.inactiveForeground), ellipsis: g.ellipsis)
        case .measuring(let activity, let fraction):
            let bar = Rect(x: row.x, y: row.y, width: min(20, row.width / 3), height: 1)
            Bars.meter(into: &screen, area: bar, fraction: fraction, style: theme.style(.ok), emptyStyle: theme.style(.divider), glyphs: g)
            screen.put(" measuring: " + activity, in: Rect(x: bar.maxX, y: row.y, width: row.maxX - bar.maxX, height: 1),
                       row: row.y, style: theme.style(.warning), ellipsis: g.ellipsis)
        case .measured:
            let speed = state.compare.report?.threads.map { "speed on \(plural($0, "thread")); " } ?? "speed not measured; "
            screen.put(speed + "sorted by \(state.compare.sortColumn.title(ascii: state.useASCII))"
                       + (state.compare.descending ? ", descending" : ""), in: row, row: row.y,
                       style: theme.style(.inactiveForeground), ellipsis: g.ellipsis)
        case .failed(let message):
            screen.put("failed: " + message, in: row, row: row.y, style: theme.style(.error, bold: true), ellipsis: g.ellipsis)
        }
    }

    static func renderEmpty(_ state: AppState, _ theme: Theme, area: Rect, into screen: inout Screen) {
        let models = state.compare.models
        let lines = models.isEmpty
            ? ["No variants yet.", "Make one in the Compress screen (w), or add a base and its variants here (a)."]
            : ["Base: \(models[0])", "Add a variant to compare with it (a), or make one in Compress (w)."]
        for (i, line) in lines.enumerated() {
            screen.put(line, in: area, row: area.y + i, style: i == 0 ? theme.style(.title, bold: true) : theme.base,
                       ellipsis: state.glyphs.ellipsis)
        }
    }

    // MARK: - Table

    /// The columns shown at `width`: the narrow set, plus bits/w, prefill and a verdict column when wide.
    static func columns(width: Int, ascii: Bool) -> [(CompareState.Column?, TableColumn)] {
        var columns: [(CompareState.Column?, TableColumn)] = [
            (nil, TableColumn("", width: 1)), (.model, TableColumn("model")),
            (.loss, TableColumn("loss", width: 6, alignment: .right)),
            (.lossChange, TableColumn("Δ loss", width: 8, alignment: .right)),
            (.kld, TableColumn("KLD", width: 8, alignment: .right)),
            (.agreement, TableColumn("top1", width: 6, alignment: .right)),
            (.file, TableColumn("file", width: 9, alignment: .right)),
        ]
        if width >= 110 { columns.append((.bits, TableColumn("bits/w", width: 6, alignment: .right))) }
        if width >= 110 { columns.append((.prefill, TableColumn("pp t/s", width: 7, alignment: .right))) }
        columns.append((.decode, TableColumn("ms/tok", width: 7, alignment: .right)))
        if width >= 110 { columns.append((nil, TableColumn("verdict", width: min(44, width - 96)))) }
        return columns.map { column, table in
            var table = table
            if let column { table.title = column.title(ascii: ascii) }
            return (column, table)
        }
    }

    static func renderTable(_ state: AppState, _ report: ComparisonReport, _ theme: Theme, area: Rect, into screen: inout Screen) {
        let compare = state.compare
        let g = state.glyphs
        var columns = self.columns(width: area.width, ascii: state.useASCII)
        for i in columns.indices where columns[i].0 == compare.sortColumn {
            columns[i].1.title += String(compare.descending ? g.arrowDown : g.arrowUp)
        }
        let order = compare.order
        let rows = order.map { index in
            cells(report, index, columns: columns.map(\.0), ascii: state.useASCII)
        }
        let selectedRow = order.firstIndex(of: compare.selected)
        Table.draw(into: &screen, area: area, columns: columns.map(\.1), rows: rows, selected: selectedRow,
                   headerStyle: theme.style(.title, bold: true), style: theme.base, selectedStyle: theme.selected, glyphs: g)
        // Colour: the Δ loss and verdict cells, and deleted models, in their own colours (same scrolling as Table.draw).
        let visible = area.height - 1
        guard visible > 0 else { return }
        let first = max(0, min((selectedRow ?? 0) - visible + 1, rows.count - visible))
        let widths = Table.columnWidths(columns.map(\.1), total: area.width)
        for (line, index) in order.enumerated().dropFirst(first).prefix(visible) where line != selectedRow {
            let row = report.models[index]
            let y = area.y + 1 + line - first
            var x = area.x
            for (c, width) in widths.enumerated() {
                let key: ThemeKey? = switch columns[c].0 {
                case .lossChange: worseKey(row)
                case nil where c > 0: verdictKey(row)
                case .model where compare.isMissing(row.model): .error
                default: nil
                }
                if let key {
                    screen.put(Table.aligned(rows[line][c], width: width, alignment: columns[c].1.alignment, ellipsis: g.ellipsis),
                               x: x, y: y, style: theme.style(key, bold: key == .error))
                }
                x += width + 1
            }
        }
    }

    /// A row's cells for `columns`, every number formatted from the report.
    static func cells(_ report: ComparisonReport, _ index: Int, columns: [CompareState.Column?], ascii: Bool) -> [String] {
        let row = report.models[index]
        let dash = ascii ? "-" : "—"
        return columns.enumerated().map { position, column in
            switch column {
            case nil: position == 0 ? (row.isBase ? "B" : " ") : verdict(row, report, ascii: ascii)
            case .model: shortName(row.model)
            case .loss: String(format: "%.4f", row.evaluation.loss)
            case .lossChange: row.comparison.map { String(format: "%+.4f", $0.lossChange) } ?? "(base)"
            case .kld: row.comparison.map { String(format: "%.5f", $0.divergence.mean) } ?? dash
            case .agreement: row.comparison.map { String(format: "%.1f%%", $0.agreement * 100) } ?? dash
            case .file: formatBytes(row.fileBytes)
            case .bits: String(format: "%.2f", row.bitsPerWeight)
            case .decode: row.speed.map { String(format: "%.3f", $0.decodeMillisecondsPerToken.mean) } ?? dash
            case .prefill: row.speed.map { String(format: "%.0f", $0.prefillTokensPerSecond.mean) } ?? dash
            }
        }
    }

    /// A model's directory or file name (the details line shows the whole path).
    static func shortName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    // MARK: - Verdicts in words

    /// "3.56× smaller, faster, worse by 1.2%": the CLI's verdicts, shortened, and the perplexity change.
    static func verdict(_ row: ComparisonReport.Row, _ report: ComparisonReport, ascii: Bool) -> String {
        guard !row.isBase else { return "(base)" }
        var parts: [String] = []
        if let smaller = row.smaller {
            parts.append(smaller.hasPrefix("yes, ") ? String(smaller.dropFirst(5)) : smaller.hasPrefix("no, about") ? "same size" : String(smaller.dropFirst(4)))
        }
        if let faster = row.faster {
            parts.append(faster.hasPrefix("yes") ? "faster" : faster.hasPrefix("partly") ? "partly faster" : "not faster")
        } else {
            parts.append("speed not measured")
        }
        parts.append(worseBy(row))
        let text = parts.joined(separator: ", ")
        return ascii ? text.replacingOccurrences(of: "×", with: "x") : text
    }

    /// "worse by 1.23%" (perplexity), "better by …", or "no worse" when the change is within two standard errors.
    static func worseBy(_ row: ComparisonReport.Row) -> String {
        guard let c = row.comparison else { return "" }
        let percent = abs(c.perplexityRatio - 1) * 100
        if abs(c.lossChange) <= 2 * c.lossChangeStandardError { return "no worse (within error)" }
        return String(format: c.lossChange > 0 ? "worse by %.2f%%" : "better by %.2f%%", percent)
    }

    static func worseKey(_ row: ComparisonReport.Row) -> ThemeKey? {
        guard let c = row.comparison else { return nil }
        if c.lossChange <= 2 * c.lossChangeStandardError { return .ok }
        return c.perplexityRatio - 1 < 0.05 ? .warning : .error
    }

    static func verdictKey(_ row: ComparisonReport.Row) -> ThemeKey? {
        guard !row.isBase else { return nil }
        let smaller = row.smaller?.hasPrefix("yes") == true
        let faster = row.faster?.hasPrefix("yes") == true
        let worse = worseKey(row)
        if smaller && faster && worse == .ok { return .ok }
        if !smaller || worse == .error || row.faster?.hasPrefix("no") == true { return .error }
        return .warning
    }

    // MARK: - Details of the selected model

    static func renderDetails(_ state: AppState, _ row: ComparisonReport.Row, _ theme: Theme, area: Rect, into screen: inout Screen) {
        let g = state.glyphs
        let deleted = state.compare.isMissing(row.model) ? " (deleted from disk)" : ""
        var first = "\(row.model)\(deleted): \(row.format), \(String(format: "%.2f", row.bitsPerWeight)) bits/weight, \(formatCount(row.parameters)) params"
        var second: String
        if let c = row.comparison {
            first += String(format: ", KLD p99 %.5f, max %.5f, Δp %+.5f", c.divergence.p99, c.divergence.maximum, c.probabilityChange)
            second = "smaller? \(row.smaller ?? "")  faster? \(row.faster ?? "not measured")  \(worseBy(row))"
        } else {
            second = "the base: every variant is measured against it on the same windows"
        }
        if state.useASCII {
            first = first.replacingOccurrences(of: "Δ", with: "d")
            second = second.replacingOccurrences(of: "×", with: "x")
        }
        screen.put(first, in: area, row: area.y, style: state.compare.isMissing(row.model) ? theme.style(.error) : theme.base,
                   ellipsis: g.ellipsis)
        screen.put(second, in: area, row: area.y + 1, style: theme.style(verdictKey(row) ?? .inactiveForeground), ellipsis: g.ellipsis)
    }

    // MARK: - Pareto plot

    static func renderPlot(_ state: AppState, _ report: ComparisonReport, _ theme: Theme, area: Rect, into screen: inout Screen) {
        let compare = state.compare
        let byLatency = compare.plotAxis == .decodeLatency
        let quality = compare.quality == .loss ? "loss" : "KLD"
        let axis = byLatency ? "decode ms/token" : "file size"
        screen.put("\(quality) against \(axis) (lower left is better; the line is the Pareto front; p: x axis, y: quality)",
                   in: area, row: area.y, style: theme.style(.title, bold: true), ellipsis: state.glyphs.ellipsis)
        let points: [ScatterPoint] = report.models.indices.compactMap { index in
            let row = report.models[index]
            let x: Double? = byLatency ? row.speed?.decodeMillisecondsPerToken.mean : Double(row.fileBytes)
            let y = compare.quality == .loss ? row.evaluation.loss : row.comparison?.divergence.mean ?? 0
            guard let x else { return nil }
            let name = shortName(row.model)
            return ScatterPoint(x: x, y: y, label: name, style: theme.style(ExperimentsView.key(for: index)),
                                highlighted: index == compare.selected)
        }
        let plot = Rect(x: area.x, y: area.y + 1, width: area.width, height: area.height - 1)
        guard !points.isEmpty else {
            screen.put("decode latency was not measured", in: plot, row: plot.y, style: theme.style(.inactiveForeground))
            return
        }
        ScatterPlot.draw(into: &screen, area: plot, points: points,
                         xLabel: { byLatency ? String(format: "%.3f ms", $0) : formatBytes(Int($0)) },
                         yLabel: { String(format: compare.quality == .loss ? "%.4f" : "%.5f", $0) },
                         frontStyle: theme.style(.marker), labelStyle: theme.style(.graphText), glyphs: state.glyphs)
    }

    // MARK: - Per-tensor errors

    /// The selected variant's tensors, worst first: name, stored format, a bar and ‖W − Ŵ‖² / ‖W‖².
    static func renderTensorErrors(_ view: TensorErrorView, _ state: AppState, _ theme: Theme, area: Rect, into screen: inout Screen) {
        let g = state.glyphs
        let measure = state.useASCII ? "|W - W'|^2 / |W|^2" : "‖W − Ŵ‖² / ‖W‖²"
        screen.put("\(shortName(view.model)): weight error per tensor, \(measure) against the base, worst first (p: plot)",
                   in: area, row: area.y, style: theme.style(.title, bold: true), ellipsis: g.ellipsis)
        let body = Rect(x: area.x, y: area.y + 1, width: area.width, height: area.height - 1)
        if let failure = view.failure {
            screen.put("cannot measure: " + failure, in: body, row: body.y, style: theme.style(.error, bold: true), ellipsis: g.ellipsis)
            return
        }
        guard let errors = view.errors else {
            screen.put("measuring...", in: body, row: body.y, style: theme.style(.warning))
            return
        }
        let sorted = errors.sorted { $0.relativeError > $1.relativeError }
        let worst = max(sorted.first?.relativeError ?? 0, 1e-30)
        let nameWidth = min(24, body.width / 3)
        for (i, error) in sorted.prefix(body.height).enumerated() {
            let y = body.y + i
            var x = screen.put(Table.aligned(error.tensor, width: nameWidth, alignment: .left, ellipsis: g.ellipsis), x: body.x, y: y,
                               style: theme.base)
            x = screen.put(" " + Table.aligned(error.format.rawValue, width: 5, alignment: .left, ellipsis: g.ellipsis) + " ",
                           x: x, y: y, style: theme.style(.inactiveForeground))
            let value = String(format: "%.2e", error.relativeError)
            let bar = Rect(x: x, y: y, width: max(body.maxX - x - value.count - 1, 0), height: 1)
            Bars.meter(into: &screen, area: bar, fraction: error.relativeError / worst, style: theme.style(i < 3 ? .error : .warning),
                       emptyStyle: theme.base, glyphs: g)
            screen.put(value, x: bar.maxX + 1, y: y, style: theme.base)
        }
    }

    // MARK: - Side by side

    static func renderSideBySide(_ sideBySide: SideBySide, _ state: AppState, _ theme: Theme, area: Rect, into screen: inout Screen) {
        let g = state.glyphs
        let count = sideBySide.models.count
        guard count > 0 else { return }
        let width = (area.width - (count - 1)) / count
        guard width >= 10 else { return }
        for index in 0..<count {
            let column = Rect(x: area.x + index * (width + 1), y: area.y, width: width, height: area.height)
            let name = shortName(sideBySide.models[index])
            screen.put(name, in: column, row: column.y, style: theme.style(.title, bold: true), ellipsis: g.ellipsis)
            let footer: (String, ThemeKey)
            if let failure = sideBySide.failures[index] {
                footer = ("failed: " + failure, .error)
            } else if let summary = sideBySide.summaries[index] {
                let rate = summary.decodeMillisecondsPerToken > 0 ? 1000 / summary.decodeMillisecondsPerToken : 0
                footer = (String(format: "%.0f tok/s (%.3f ms/token)", rate, summary.decodeMillisecondsPerToken), .ok)
            } else {
                footer = ("generating...", .warning)
            }
            screen.put(footer.0, in: column, row: column.maxY - 1, style: theme.style(footer.1, bold: true), ellipsis: g.ellipsis)
            for (i, line) in GenerateView.wrap(sideBySide.outputs[index], width: width, rows: column.height - 2).enumerated() {
                screen.put(String(line.text), x: column.x, y: column.y + 1 + i, style: theme.base)
            }
        }
    }
}
