// The memory panel: the engine's exact ledger as one stacked bar scaled to peak RSS, a legend line
// per category with its bytes, and the measured RSS and peak RSS.

/// Renders the memory panel.
enum MemoryPanel {
    /// The theme slot for a ledger category name (unknown names cycle through the memory slots).
    static func key(for name: String, index: Int) -> ThemeKey {
        let lower = name.lowercased()
        let known: [(String, ThemeKey)] = [
            ("master", .memoryMaster), ("grad", .memoryGradients), ("optim", .memoryOptimizer),
            ("activ", .memoryActivations), ("work", .memoryWorkspace), ("weight", .memoryWeights),
        ]
        if let match = known.first(where: { lower.contains($0.0) }) { return match.1 }
        let cycle: [ThemeKey] = [
            .memoryWeights, .memoryGradients, .memoryOptimizer, .memoryActivations, .memoryWorkspace,
        ]
        return cycle[index % cycle.count]
    }

    static func render(
        _ state: AppState, _ snapshot: TrainingMetricsSnapshot, _ theme: Theme, area: Rect,
        into screen: inout Screen
    ) {
        if let whatIf = state.memoryWhatIf {
            return renderWhatIf(whatIf, state, theme, area: area, into: &screen)
        }
        let inner = TrainView.frame(area, title: "memory", focused: state.focus == .memory, state, theme, into: &screen)
        guard inner.height >= 1, inner.width > 8 else { return }
        let g = state.glyphs
        guard !snapshot.memory.isEmpty else {
            screen.put("no ledger yet", in: inner, row: inner.y, style: theme.style(.inactiveForeground))
            return
        }
        let ledgerTotal = snapshot.memory.reduce(0) { $0 + $1.bytes }
        let segments = snapshot.memory.enumerated().map { index, category in
            BarSegment(
                value: Double(category.bytes), style: theme.style(key(for: category.name, index: index)),
                fill: theme.hasColor ? g.stackFills[0] : g.stackFills[index % g.stackFills.count])
        }
        let scale = Double(max(snapshot.peakResidentBytes, ledgerTotal))
        Bars.stacked(
            into: &screen, area: Rect(x: inner.x, y: inner.y, width: inner.width, height: 1), segments: segments,
            total: scale, emptyStyle: theme.style(.inactiveForeground), emptyFill: g.useASCIIEmptyFill)
        var y = inner.y + 1
        let rows =
            snapshot.memory.enumerated().map { index, category in
                (
                    String(segments[index].fill), category.name, NumberFormat.bytes(category.bytes),
                    key(for: category.name, index: index)
                )
            } + [(" ", "ledger total", NumberFormat.bytes(ledgerTotal), ThemeKey.mainForeground)]
        for (swatch, name, bytes, slot) in rows where y < inner.maxY - 1 {
            screen.put(swatch, x: inner.x, y: y, style: theme.style(slot))
            screen.put(name, x: inner.x + 2, y: y, style: theme.base)
            screen.put(bytes, x: inner.maxX - bytes.count, y: y, style: theme.style(.highlight))
            y += 1
        }
        if let workers = snapshot.workerMemory {
            renderWorkers(workers, theme, inner: inner, y: y, into: &screen)
        }
        let rss =
            "RSS \(NumberFormat.bytes(snapshot.residentBytes))  peak \(NumberFormat.bytes(snapshot.peakResidentBytes))"
        screen.put(
            rss, in: inner, row: inner.maxY - 1, style: theme.style(.memoryRSS, bold: true), ellipsis: g.ellipsis)
    }
}

extension MemoryPanel {
    /// Per-worker bytes and the ZeRO stages, as many lines as fit above the RSS line.
    static func renderWorkers(_ w: WorkerMemory, _ theme: Theme, inner: Rect, y start: Int, into screen: inout Screen) {
        var y = start
        let room = inner.maxY - 1 - y
        guard room >= 1, w.stageBytes.count == 4 else { return }
        func line(_ name: String, _ value: String, _ style: CellStyle) {
            screen.put(name, in: inner, row: y, style: style)
            screen.put(value, x: inner.maxX - value.count, y: y, style: theme.style(.highlight))
            y += 1
        }
        line("per worker (\(w.workers))", NumberFormat.bytes(w.perWorkerBytes), theme.base)
        let notes = ["optimizer/N", "+ gradients/N", "+ weights/N"]
        if room >= 5 {
            line("ZeRO: one worker holds", "", theme.style(.inactiveForeground))
            if room >= 6 { line(" stage 0 full replica", NumberFormat.bytes(w.stageBytes[0]), theme.base) }
            for stage in 1...3 {
                line(" stage \(stage) \(notes[stage - 1])", NumberFormat.bytes(w.stageBytes[stage]), theme.base)
            }
        } else if room >= 2 {
            let text = "ZeRO " + (1...3).map { "\($0):" + shortBytes(w.stageBytes[$0]) }.joined(separator: " ")
            screen.put(text, in: inner, row: y, style: theme.base)
        }
    }

    /// "12.3M"-style bytes for narrow tables.
    static func shortBytes(_ bytes: Int) -> String {
        let full = NumberFormat.bytes(abs(bytes)).replacingOccurrences(of: "iB", with: "")
            .replacingOccurrences(of: " ", with: "")
        return (bytes < 0 ? "-" : "") + full
    }

    /// The what-if comparison: per category the bytes now, with the candidate value, and the change.
    static func renderWhatIf(
        _ whatIf: MemoryWhatIf, _ state: AppState, _ theme: Theme, area: Rect, into screen: inout Screen
    ) {
        let inner = TrainView.frame(
            area, title: "memory what-if", focused: state.focus == .memory, state, theme, into: &screen)
        guard inner.height >= 2, inner.width > 12 else { return }
        let wide = inner.width >= 40
        let nameWidth = wide ? 12 : 7
        let column = (inner.width - nameWidth) / 3
        func format(_ bytes: Int?, signed: Bool = false) -> String {
            guard let bytes else { return state.useASCII ? "-" : "–" }
            let text = wide ? NumberFormat.bytes(abs(bytes)) : shortBytes(abs(bytes))
            if signed, bytes == 0 { return "0" }
            return signed ? (bytes > 0 ? "+" : bytes < 0 ? "-" : "") + text : text
        }
        var y = inner.y
        func put(_ cells: [String], _ styles: [CellStyle]) {
            guard y < inner.maxY else { return }
            screen.put(String(cells[0].prefix(nameWidth)), x: inner.x, y: y, style: styles[0])
            for i in 1..<4 {
                let cell = String(cells[i].suffix(column - 1))
                screen.put(cell, x: inner.x + nameWidth + column * i - cell.count, y: y, style: styles[i])
            }
            y += 1
        }
        let dim = theme.style(.inactiveForeground)
        put(["", "now", "if", "change"], [dim, dim, dim, dim])
        for row in whatIf.rows {
            let delta = row.delta ?? 0
            let deltaStyle = delta < 0 ? theme.style(.ok) : delta > 0 ? theme.style(.warning) : dim
            let short = ["weights": "weights", "gradients": "grads", "optimizer": "optim", "activations": "activ",
                         "workspace": "work", "total": "total"]
            let name = wide ? row.name : short[row.name] ?? String(row.name.prefix(6))
            let bold = row.name == "total"
            put([name, format(row.current), format(row.candidate), row.delta == nil ? "" : format(delta, signed: true)],
                [bold ? theme.style(.mainForeground, bold: true) : theme.base, theme.style(.highlight),
                 theme.style(.highlight, bold: bold), deltaStyle])
        }
        if wide, y + 5 < inner.maxY - 1 {
            y += 1
            for row in whatIf.workerRows {
                let delta = row.delta ?? 0
                let deltaStyle = delta < 0 ? theme.style(.ok) : delta > 0 ? theme.style(.warning) : dim
                put([row.name, format(row.current), format(row.candidate), row.delta == nil ? "" : format(delta, signed: true)],
                    [theme.base, theme.style(.highlight), theme.style(.highlight), deltaStyle])
            }
        }
        let footer = whatIf.error.map { "not valid: " + $0 } ?? "\(whatIf.key) = \(whatIf.candidateText) (Enter applies)"
        if y < inner.maxY {
            screen.put(footer, in: inner, row: inner.maxY - 1,
                       style: whatIf.error == nil ? dim : theme.style(.error), ellipsis: state.glyphs.ellipsis)
        }
    }
}

extension Glyphs {
    /// The fill of the unused part of the memory bar (beyond the ledger, up to peak RSS).
    var useASCIIEmptyFill: Character { chartSymbols == .ascii ? "." : "·" }
}
