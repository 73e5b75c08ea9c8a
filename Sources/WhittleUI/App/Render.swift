// The pure view function: draws the whole UI for a state, a metrics snapshot and a theme into a
// fresh Screen. Overlays (help, dialogs) are drawn last, over the current screen.

import WhittleEngine

/// Draws the UI for `state` and `snapshot` in `theme`'s colours. Pass the same `cache` every frame
/// so long histories cost only their new points (a fresh cache draws the same screen, slower).
public func render(
    _ state: AppState, _ snapshot: TrainingMetricsSnapshot, _ theme: Theme, cache: RenderCache = RenderCache()
) -> Screen {
    var screen = Screen(width: state.terminalWidth, height: state.terminalHeight, fill: Cell(" ", style: theme.base))
    if state.isTooSmall {
        renderTooSmall(state, theme, into: &screen)
        return screen
    }
    switch state.screen {
    case .train: TrainView.render(state, snapshot, theme, cache: cache, into: &screen)
    case .generate: renderGenerate(state, theme, into: &screen)
    case .experiments: ExperimentsView.render(state, theme, into: &screen)
    case .compare: CompareView.render(state, theme, into: &screen)
    case .compress: CompressView.render(state, theme, into: &screen)
    }
    renderHeader(state, snapshot, theme, into: &screen)
    renderStatusBar(state, snapshot, theme, into: &screen)
    renderModal(state, theme, into: &screen)
    return screen
}

private func renderTooSmall(_ state: AppState, _ theme: Theme, into screen: inout Screen) {
    let g = state.glyphs
    let need = "\(AppState.minimumSize.width)\(g.times)\(AppState.minimumSize.height)"
    let have = "\(state.terminalWidth)\(g.times)\(state.terminalHeight)"
    let lines: [(String, CellStyle)] = [
        ("Whittle needs \(need),", theme.style(.mainForeground, bold: true)),
        ("have \(have).", theme.style(.error, bold: true)),
        (
            state.modal == .confirmQuit ? "Unsaved run: save and quit? y/n" : "Enlarge the window, or q to quit.",
            theme.style(state.modal == .confirmQuit ? .warning : .inactiveForeground)
        ),
    ]
    let top = max((screen.height - lines.count) / 2, 0)
    for (i, (text, style)) in lines.enumerated() {
        let clipped = String(text.prefix(screen.width))
        screen.put(clipped, x: max((screen.width - clipped.count) / 2, 0), y: top + i, style: style)
    }
}

private func renderHeader(
    _ state: AppState, _ snapshot: TrainingMetricsSnapshot, _ theme: Theme,
    into screen: inout Screen
) {
    let g = state.glyphs
    let row = Rect(x: 0, y: 0, width: screen.width, height: 1)
    screen.fill(row, style: theme.base)
    var x = screen.put(" whittle ", x: 0, y: 0, style: theme.style(.title, bold: true))
    x = screen.put(
        state.screen.rawValue, x: x, y: 0, style: theme.style(.highlight, bold: true))
    if !snapshot.runName.isEmpty {
        x = screen.put(" \(snapshot.runName)", x: x, y: 0, style: theme.style(.inactiveForeground))
    }
    let percent = snapshot.totalSteps > 0 ? Double(snapshot.step) / Double(snapshot.totalSteps) * 100 : 0
    var parts = [
        "step \(NumberFormat.grouped(snapshot.step))/\(NumberFormat.grouped(snapshot.totalSteps)) \(Int(percent))%",
        "ETA \(snapshot.etaSeconds.map(NumberFormat.duration) ?? "--")",
        "elapsed \(NumberFormat.duration(snapshot.elapsedSeconds))",
        "tokens \(NumberFormat.count(snapshot.tokensSeen))",
    ]
    let (label, key) = runStateLabel(state.runState)
    let badge = "\(g.bullet) \(label) "
    while !parts.isEmpty, x + (g.separator + parts.joined(separator: g.separator)).count + badge.count >= screen.width {
        parts.removeLast()
    }
    if !parts.isEmpty {
        x = screen.put(g.separator + parts.joined(separator: g.separator), x: x, y: 0, style: theme.base)
    }
    if screen.width - badge.count > x {
        screen.put(badge, x: screen.width - badge.count, y: 0, style: theme.style(key, bold: true))
    }
}

private func runStateLabel(_ runState: JobState) -> (String, ThemeKey) {
    switch runState {
    case .loading: ("loading", .inactiveForeground)
    case .idle: ("idle", .inactiveForeground)
    case .running: ("running", .ok)
    case .paused: ("paused", .warning)
    case .finished: ("finished", .title)
    case .failed: ("failed", .error)
    case .cancelled: ("cancelled", .warning)
    case .stopped: ("stopped", .inactiveForeground)
    }
}

private func renderStatusBar(
    _ state: AppState, _ snapshot: TrainingMetricsSnapshot, _ theme: Theme,
    into screen: inout Screen
) {
    let row = Rect(x: 0, y: screen.height - 1, width: screen.width, height: 1)
    let dot = state.useASCII ? " | " : " · "
    var right = "\(state.themeName)\(dot)ema \(state.chart.smoothing)\(state.chart.logScale ? dot + "log" : "")"
    // A failed run says why until a newer message replaces it for a while.
    if let failure = state.runState.failure { right = "training failed: " + failure }
    if let message = state.message { right = message }
    let priority = state.message != nil || state.runState.failure != nil
    var keyStyle = theme.status.bolded()
    if let highlight = theme.color(.highlight) { keyStyle.foreground = highlight }
    Overlays.statusBar(
        into: &screen, area: row, hints: Keymap.hints(for: state.keyContext, ascii: state.useASCII),
        right: right, rightHasPriority: priority, style: theme.status, keyStyle: keyStyle)
}

private func renderModal(_ state: AppState, _ theme: Theme, into screen: inout Screen) {
    guard let modal = state.modal else { return }
    let g = state.glyphs
    let body = screen.bounds.inset(top: 1, bottom: 1)
    let border = theme.style(.focusedDivider)
    let title = theme.style(.title, bold: true)
    switch modal {
    case .help(let scroll):
        Overlays.help(
            into: &screen, area: body, sections: Keymap.helpSections(ascii: state.useASCII), scroll: scroll,
            style: theme.base, borderStyle: border, titleStyle: title,
            keyStyle: theme.style(.highlight, bold: true), glyphs: g)
    case .confirmQuit:
        let inner = Overlays.dialog(
            into: &screen, area: body, width: 52, height: 7, title: "quit", style: theme.base,
            borderStyle: border, titleStyle: title, glyphs: g)
        screen.put(
            "Steps since the last checkpoint are unsaved.", in: inner.inset(left: 1), row: inner.y, style: theme.base)
        screen.put(
            "Save a checkpoint and quit?", in: inner.inset(left: 1), row: inner.y + 1, style: theme.style(.warning))
        screen.put(
            "y/Enter/c save and quit  d don't save  n/Esc stay", in: inner.inset(left: 1), row: inner.y + 3,
            style: theme.style(.highlight, bold: true))
    case .runSteps(let field, let error):
        let inner = Overlays.dialog(
            into: &screen, area: body, width: 44, height: 7, title: "run N steps",
            style: theme.base, borderStyle: border, titleStyle: title, glyphs: g)
        screen.put("Steps to run, then pause:", in: inner.inset(left: 1), row: inner.y, style: theme.base)
        field.draw(into: &screen, area: Rect(x: inner.x + 1, y: inner.y + 1, width: 12, height: 1), style: theme.input)
        if let error {
            screen.put(
                error, in: inner.inset(left: 1), row: inner.y + 2, style: theme.style(.error), ellipsis: g.ellipsis)
        }
        screen.put(
            "Enter run   Esc cancel", in: inner.inset(left: 1), row: inner.y + 4,
            style: theme.style(.highlight, bold: true))
    case .openModel, .newRun, .replaceRun:
        renderRunDialog(modal, state, theme, into: &screen)
    case .liveCompress(let form):
        LiveCompressionView.renderForm(form, state, theme, area: body, into: &screen)
    }
}

private func renderRunDialog(_ modal: Modal, _ state: AppState, _ theme: Theme, into screen: inout Screen) {
    let g = state.glyphs
    let body = screen.bounds.inset(top: 1, bottom: 1)
    let border = theme.style(.focusedDivider)
    let title = theme.style(.title, bold: true)
    let keys = theme.style(.highlight, bold: true)
    switch modal {
    case .openModel(let picker):
        let height = min(body.height, max(picker.entries.count, 4) + 6)
        let inner = Overlays.dialog(
            into: &screen, area: body, width: min(body.width, 76), height: height, title: picker.title,
            style: theme.base, borderStyle: border, titleStyle: title, glyphs: g)
        let area = inner.inset(left: 1, right: 1)
        var x = screen.put("/ ", x: area.x, y: area.y, style: keys)
        if picker.filtering {
            picker.filter.draw(into: &screen, area: Rect(x: x, y: area.y, width: min(30, area.maxX - x), height: 1),
                               style: theme.input)
        } else {
            x = screen.put(picker.filter.text.isEmpty ? "filter" : picker.filter.text, x: x, y: area.y,
                           style: theme.style(.inactiveForeground))
        }
        let visible = picker.visible
        let rows = max(area.height - 3, 1)
        let first = max(0, min(picker.selected - rows + 1, visible.count - rows))
        if visible.isEmpty {
            let roots = picker.purpose == .openRun ? "sample-models/ or runs/" : "sample-models/, runs/ or variants/"
            let text = picker.entries.isEmpty ? "no models in \(roots)" : "nothing matches the filter"
            screen.put(text, in: area, row: area.y + 2, style: theme.style(.inactiveForeground))
        }
        for (row, index) in (first..<min(first + rows, visible.count)).enumerated() {
            let entry = visible[index]
            let selected = index == picker.selected
            let style = selected ? theme.style(.highlight, bold: true).reversed() : theme.base
            let line = Rect(x: area.x, y: area.y + 2 + row, width: area.width, height: 1)
            if selected { screen.fill(line, style: style) }
            let detailWidth = min(entry.detail.count, area.width / 2)
            screen.put(entry.path, in: line.inset(right: detailWidth + 1), row: line.y, style: style, ellipsis: g.ellipsis)
            screen.put(String(entry.detail.prefix(detailWidth)), x: line.maxX - detailWidth, y: line.y,
                       style: selected ? style : theme.style(.inactiveForeground))
        }
        screen.put(picker.purpose == .openRun ? "Enter open  / filter  Esc close" : "Enter choose  / filter  Esc close", in: area, row: area.maxY - 1, style: keys)
    case .newRun(let form):
        let inner = Overlays.dialog(
            into: &screen, area: body, width: min(body.width, 76), height: 13, title: "new run",
            style: theme.base, borderStyle: border, titleStyle: title, glyphs: g)
        let area = inner.inset(left: 1, right: 1)
        for (row, field) in NewRunForm.Field.allCases.enumerated() {
            let y = area.y + row
            screen.put(field.rawValue, x: area.x, y: y, style: theme.style(.inactiveForeground))
            let rect = Rect(x: area.x + 9, y: y, width: field == .dataset ? area.width - 9 : 12, height: 1)
            if form.focus == field {
                form[field].draw(into: &screen, area: rect, style: theme.input)
            } else {
                screen.put(String(form[field].text.prefix(rect.width)), x: rect.x, y: y, style: theme.base)
            }
        }
        let y = area.y + NewRunForm.Field.allCases.count + 1
        switch form.check {
        case .invalid(let message)?:
            screen.put(message, in: area, row: y, style: theme.style(.error), ellipsis: g.ellipsis)
        case .valid(let parameters, let memory, let warning)?:
            let total = memory.reduce(0) { $0 + $1.bytes }
            screen.put("\(NumberFormat.count(parameters)) parameters\(g.separator)about \(NumberFormat.bytes(total)) to train",
                       in: area, row: y, style: theme.style(.ok, bold: true), ellipsis: g.ellipsis)
            let parts = memory.map { "\($0.name) \(NumberFormat.bytes($0.bytes))" }
            screen.put(parts.joined(separator: g.separator), in: area, row: y + 1, style: theme.base, ellipsis: g.ellipsis)
            if let warning { screen.put(warning, in: area, row: y + 2, style: theme.style(.warning), ellipsis: g.ellipsis) }
        case nil:
            screen.put("checking...", in: area, row: y, style: theme.style(.inactiveForeground))
        }
        screen.put("Enter start  Tab next field  Esc cancel", in: area, row: area.maxY - 1, style: keys)
    case .replaceRun(let replacement):
        let inner = Overlays.dialog(
            into: &screen, area: body, width: min(body.width, 60), height: 7, title: "switch run",
            style: theme.base, borderStyle: border, titleStyle: title, glyphs: g)
        let what: String
        switch replacement {
        case .open(let path): what = "Open \(path)."
        case .start(let request): what = "Start a new \(request.layers)-layer, \(request.width)-wide run."
        }
        screen.put(what, in: inner.inset(left: 1), row: inner.y, style: theme.base, ellipsis: g.ellipsis)
        screen.put("Save a checkpoint of the current run first?", in: inner.inset(left: 1), row: inner.y + 1,
                   style: theme.style(.warning))
        screen.put("y/Enter save first  d don't save  n/Esc stay", in: inner.inset(left: 1), row: inner.y + 3, style: keys)
    default: break
    }
}

private func renderGenerate(_ state: AppState, _ theme: Theme, into screen: inout Screen) {
    GenerateView.render(state, theme, into: &screen)
}
