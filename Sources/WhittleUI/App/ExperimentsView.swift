// The Experiments screen: the form (settings to vary, run length, target loss) on top; the queued
// runs' validation-loss curves overlaid in one chart; and the table of runs with progress and, as
// each finishes, its whole-split validation loss, time to the target, tokens/s, ledger and peak RSS.

import WhittleEngine

import Foundation

enum ExperimentsView {
    /// The colour slot of run `index` (its curve and its table swatch).
    static func key(for index: Int) -> ThemeKey {
        let keys: [ThemeKey] = [
            .lossTrain, .lossValidation, .learningRate, .gradientNorm, .tokens, .memoryOptimizer,
            .memoryActivations, .memoryWeights, .memoryWorkspace, .memoryGradients,
        ]
        return keys[index % keys.count]
    }

    static func render(_ state: AppState, _ theme: Theme, into screen: inout Screen) {
        let form = state.experiments
        let g = state.glyphs
        let body = screen.bounds.inset(top: 1, bottom: 1)
        let inner = screen.box(
            body, title: "experiments", glyphs: g, style: theme.style(.focusedDivider),
            titleStyle: theme.style(.title, bold: true))
        guard inner.width > 20, inner.height > 8 else { return }
        let area = inner.inset(left: 1, right: 1)
        let label = theme.style(.inactiveForeground)
        var y = area.y
        for (index, field) in [ExperimentsState.Field.vary1, .vary2, .vary3].enumerated() {
            let x = screen.put("vary \(index + 1)  ", x: area.x, y: y, style: label)
            drawField(form, field, theme, Rect(x: x, y: y, width: min(area.maxX - x, 60), height: 1), into: &screen)
            y += 1
        }
        var x = screen.put("max_iters ", x: area.x, y: y, style: label)
        drawField(form, .maxIterations, theme, Rect(x: x, y: y, width: 8, height: 1), into: &screen)
        x = screen.put("  target loss ", x: x + 8, y: y, style: label)
        drawField(form, .targetLoss, theme, Rect(x: x, y: y, width: 8, height: 1), into: &screen)
        y += 1
        let line: (String, CellStyle) =
            form.error.map { ($0, theme.style(.error, bold: true)) }
            ?? (summary(form, g), form.isRunning ? theme.style(.warning) : label)
        screen.put(line.0, in: area, row: y, style: line.1, ellipsis: g.ellipsis)
        y += 1
        screen.fill(Rect(x: inner.x, y: y, width: inner.width, height: 1), with: g.horizontal, style: theme.style(.divider))
        y += 1
        let rest = area.maxY - y
        guard rest >= 4 else { return }
        let tableHeight = max(3, min(form.runs.count + 1, rest / 2))
        let chart = Rect(x: area.x, y: y, width: area.width, height: rest - tableHeight - 1)
        renderChart(form, theme, g, area: chart, into: &screen)
        let table = Rect(x: area.x, y: chart.maxY + 1, width: area.width, height: tableHeight)
        renderTable(state, theme, area: table, into: &screen)
    }

    /// The line under the form: what Enter will do, or how far the queue is.
    static func summary(_ form: ExperimentsState, _ g: Glyphs) -> String {
        if form.runs.isEmpty {
            return "key=v1,v2 per line (any config key); every combination runs as a child `whittle train`"
        }
        let done = form.doneCount
        let place = form.directory.map { " \(g.separator.trimmingCharacters(in: .whitespaces)) \($0)" } ?? ""
        return form.isRunning
            ? "running \(min(done + 1, form.runs.count))/\(form.runs.count)\(place)"
            : "\(done)/\(form.runs.count) runs done\(place) (F2 exports sweep.md/csv/json)"
    }

    static func drawField(
        _ form: ExperimentsState, _ field: ExperimentsState.Field, _ theme: Theme, _ rect: Rect,
        into screen: inout Screen
    ) {
        let value = form[field]
        if form.focus == field {
            value.draw(into: &screen, area: rect, style: theme.input)
        } else {
            screen.fill(rect, style: theme.style(.inactiveForeground))
            screen.put(String(value.text.prefix(rect.width)), x: rect.x, y: rect.y, style: theme.style(.highlight))
        }
    }

    static func renderChart(_ form: ExperimentsState, _ theme: Theme, _ g: Glyphs, area: Rect, into screen: inout Screen) {
        guard area.height >= 2 else { return }
        screen.put("validation loss by step", x: area.x, y: area.y, style: theme.style(.title, bold: true))
        var options = LineChartOptions(
            symbols: g.chartSymbols, labelStyle: theme.style(.graphText), markerStyle: theme.style(.marker))
        options.emptyText = form.runs.isEmpty ? "queue runs with Enter" : "waiting for the first evaluation"
        let layers = form.runs.enumerated().map { index, run in
            ChartLayer(
                points: run.validationLoss.map { ChartPoint(x: Double($0.step), y: $0.loss) },
                style: theme.style(key(for: index), bold: true))
        }
        LineChart.draw(
            into: &screen, area: Rect(x: area.x, y: area.y + 1, width: area.width, height: area.height - 1),
            layers: layers, options: options, glyphs: g)
    }

    static func renderTable(_ state: AppState, _ theme: Theme, area: Rect, into screen: inout Screen) {
        let form = state.experiments
        let g = state.glyphs
        let dash = state.useASCII ? "-" : "–"
        let target = form.plannedTarget.map { (state.useASCII ? "<=" : "≤") + NumberFormat.compact($0) } ?? "target"
        let columns = [
            TableColumn("", width: 1), TableColumn(form.variedKeys.isEmpty ? "run" : form.variedKeys.joined(separator: " ")), TableColumn("status", width: 10),
            TableColumn("val loss", width: 8, alignment: .right), TableColumn("to " + target, width: 9, alignment: .right),
            TableColumn("tok/s", width: 6, alignment: .right), TableColumn("ledger", width: 9, alignment: .right),
            TableColumn("peak RSS", width: 9, alignment: .right),
        ]
        let rows = form.runs.map { run -> [String] in
            let name = form.variedKeys.map { run.settings[$0] ?? "?" }.joined(separator: " ")
            let r = run.result
            return [
                " ", name.isEmpty ? run.name : name, status(run.status),
                r?.validationLoss.map { String(format: "%.4f", $0) } ?? dash,
                r?.secondsToTarget.map { NumberFormat.duration($0) } ?? dash,
                r?.tokensPerSecond.map { NumberFormat.compact($0) } ?? dash,
                r?.ledgerBytes.map { NumberFormat.bytes($0) } ?? dash,
                r?.peakResidentBytes.map { NumberFormat.bytes($0) } ?? dash,
            ]
        }
        let focused = form.focus == .runs
        Table.draw(
            into: &screen, area: area, columns: columns, rows: rows, selected: focused ? form.selected : nil,
            headerStyle: theme.style(.title, bold: true), style: theme.base, selectedStyle: theme.selected, glyphs: g)
        // Colour swatches matching the curves (same scrolling as Table.draw).
        let visible = area.height - 1
        guard visible > 0 else { return }
        let first = max(0, min((focused ? form.selected : 0) - visible + 1, rows.count - visible))
        for index in first..<min(rows.count, first + visible) {
            screen.put(String(g.bullet), x: area.x, y: area.y + 1 + index - first, style: theme.style(key(for: index), bold: true))
        }
        if rows.isEmpty {
            screen.put("no runs queued", x: area.x + 2, y: area.y + 1, style: theme.style(.inactiveForeground))
        }
    }

    static func status(_ status: ExperimentStatus) -> String {
        switch status {
        case .queued: "queued"
        case .running(let step, let total):
            total > 0 ? "\(step)/\(total)" : "starting"
        case .finished: "done"
        case .failed(let reason): "failed: " + reason
        }
    }
}
