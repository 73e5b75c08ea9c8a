// update() for what changes how things are shown, not the run: themes, chart options, the screen
// toggle, and the mouse on the Train screen.

/// Commands that change how things are shown, not the run.
func performViewCommand(_ command: Command, _ state: inout AppState) -> [Effect] {
    switch command {
    case .cycleTheme:
        guard !state.themeNames.isEmpty else { return [] }
        let index = state.themeNames.firstIndex(of: state.themeName) ?? -1
        state.themeName = state.themeNames[(index + 1) % state.themeNames.count]
        state.show("theme: \(state.themeName)")
        return [.cycleTheme(state.themeName)]
    case .toggleLogScale:
        state.chart.logScale.toggle()
        return []
    case .toggleTimeAxis:
        state.chart.xAxis = state.chart.xAxis == .step ? .time : .step
        return []
    case .smoothMore:
        state.chart.smoothingLevel = min(state.chart.smoothingLevel + 1, ChartSettings.smoothingLevels.count - 1)
        return []
    case .smoothLess:
        state.chart.smoothingLevel = max(state.chart.smoothingLevel - 1, 0)
        return []
    case .toggleScreen:
        state.screen = state.screen == .train ? .generate : .train
        state.compare.editingData = false
        state.compare.editingPrompt = false
        return []
    default:
        return []
    }
}

func handleMouse(_ state: inout AppState, _ event: MouseEvent) -> [Effect] {
    guard !state.isTooSmall, state.screen == .train else { return [] }
    if case .help(let scroll) = state.modal {
        if event.kind == .wheelUp { state.modal = .help(scroll: max(scroll - 1, 0)) }
        if event.kind == .wheelDown { state.modal = .help(scroll: state.helpScroll(scroll + 1)) }
        return []
    }
    guard state.modal == nil, state.editing == nil else { return [] }
    let layout = TrainLayout(width: state.terminalWidth, height: state.terminalHeight)
    guard let pane = layout.pane(atX: event.x, y: event.y) else { return [] }
    switch event.kind {
    case .press:
        state.focus = pane
        if pane == .hyperparameters, let index = layout.hyperparameterIndex(atY: event.y, selected: state.selectedHyperparameter) {
            state.selectedHyperparameter = index
        }
    case .wheelUp where pane == .hyperparameters: return performPaneCommand(.moveUp, &state)
    case .wheelDown where pane == .hyperparameters: return performPaneCommand(.moveDown, &state)
    default: break
    }
    return []
}
