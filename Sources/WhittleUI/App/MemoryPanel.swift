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
        let rss =
            "RSS \(NumberFormat.bytes(snapshot.residentBytes))  peak \(NumberFormat.bytes(snapshot.peakResidentBytes))"
        screen.put(
            rss, in: inner, row: inner.maxY - 1, style: theme.style(.memoryRSS, bold: true), ellipsis: g.ellipsis)
    }
}

extension Glyphs {
    /// The fill of the unused part of the memory bar (beyond the ledger, up to peak RSS).
    var useASCIIEmptyFill: Character { chartSymbols == .ascii ? "." : "·" }
}
