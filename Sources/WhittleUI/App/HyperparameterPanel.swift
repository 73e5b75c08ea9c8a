// The hyperparameter panel: one row per live-editable value, the selection, the edit field while
// typing, a pending mark for values the engine has not applied yet, and the validation error line.

/// Renders the hyperparameter panel.
enum HyperparameterPanel {
    static func render(
        _ state: AppState, _ snapshot: TrainingMetricsSnapshot, _ theme: Theme, area: Rect,
        into screen: inout Screen
    ) {
        let focused = state.focus == .hyperparameters
        let inner = TrainView.frame(area, title: "hyperparameters", focused: focused, state, theme, into: &screen)
        guard inner.width > 8 else { return }
        let labelWidth = min(14, inner.width / 2)
        let count = HyperparameterID.allCases.count, visible = max(inner.height - 1, 1)
        let offset = min(max(state.selectedHyperparameter - visible + 1, 0), max(count - visible, 0))
        let ids = Array(HyperparameterID.allCases.enumerated())
        for (index, id) in ids[offset...] where index - offset < inner.height - 1 {
            let y = inner.y + index - offset
            let selected = index == state.selectedHyperparameter
            let rowStyle = selected && focused ? theme.selected : theme.base
            let row = Rect(x: inner.x, y: y, width: inner.width, height: 1)
            screen.fill(row, style: rowStyle)
            let pointer = selected ? String(state.glyphs.pointer) : " "
            screen.put(pointer + " " + id.label, in: row, row: y, style: rowStyle)
            let valueArea = Rect(x: inner.x + labelWidth + 2, y: y, width: inner.width - labelWidth - 2, height: 1)
            if selected, let field = state.editing {
                field.draw(into: &screen, area: valueArea, style: theme.input)
                continue
            }
            let value = state.hyperparameters[id]
            let pending = snapshot.hyperparameters.map { $0[id] != value } ?? false
            let x = screen.put(
                value.text, in: valueArea, row: y, style: selected && focused ? rowStyle : theme.style(.highlight))
            if pending { screen.put(" *", x: x, y: y, style: theme.style(.warning, bold: true)) }
        }
        if count > visible {
            let mark = "\(offset + 1)-\(min(offset + visible, count))/\(count)"
            screen.put(mark, x: area.maxX - mark.count - 2, y: area.y, style: theme.style(.inactiveForeground))
        }
        let footer = Rect(x: inner.x, y: inner.maxY - 1, width: inner.width, height: 1)
        if let error = state.validationError {
            screen.put(
                error, in: footer, row: footer.y, style: theme.style(.error, bold: true),
                ellipsis: state.glyphs.ellipsis)
        } else {
            let hint =
                state.editing != nil
                ? "Enter apply  \(state.useASCII ? "Up/Down" : "↑↓") try  Esc cancel"
                : focused ? "Enter edit  \(state.useASCII ? "Left/Right" : "←→") adjust" : "Tab to edit"
            screen.put(
                hint, in: footer, row: footer.y, style: theme.style(.inactiveForeground),
                ellipsis: state.glyphs.ellipsis)
        }
    }
}
