// update() for the Compare screen: choosing the models and the evaluation text, sorting and
// selecting (the plot follows the table's selection), side-by-side generation and export; and the
// engine's answers (progress, the report, failures, directories deleted from outside).

import WhittleEngine

/// The Compare screen's keys.
func performCompareCommand(_ command: Command, _ state: inout AppState) -> [Effect] {
    if state.keyContext == .compareField { return performCompareFieldCommand(command, &state) }
    let order = state.compare.order
    let position = order.firstIndex(of: state.compare.selected) ?? 0
    switch command {
    case .moveUp where !order.isEmpty: state.compare.selected = order[max(position - 1, 0)]
    case .moveDown where !order.isEmpty: state.compare.selected = order[min(position + 1, order.count - 1)]
    case .sortNext, .sortPrevious:
        let columns = CompareState.Column.allCases
        let index = columns.firstIndex(of: state.compare.sortColumn) ?? 0
        state.compare.sortColumn = columns[(index + (command == .sortNext ? 1 : columns.count - 1)) % columns.count]
        state.compare.descending = false
        state.show("sorted by \(state.compare.sortColumn.title(ascii: state.useASCII))")
    case .reverseSort: state.compare.descending.toggle()
    case .cyclePlotAxis:
        state.compare.plotAxis = state.compare.plotAxis == .fileBytes ? .decodeLatency : .fileBytes
        state.compare.sideBySide = nil
        state.compare.tensorErrors = nil
    case .showTensorErrors:
        guard let rows = state.compare.report?.models, let row = rows[safe: state.compare.selected], !row.isBase else {
            state.show("select a variant first (the base has nothing to measure against)")
            return []
        }
        guard !state.compare.isMissing(row.model) else {
            state.show("\(row.model) was deleted from disk")
            return []
        }
        state.compare.sideBySide = nil
        state.compare.tensorErrors = TensorErrorView(model: row.model)
        return [.measureTensorErrors(base: rows[0].model, variant: row.model)]
    case .cycleQuality: state.compare.quality = state.compare.quality == .loss ? .kld : .loss
    case .editData: state.compare.editingData = true
    case .editPrompt:
        guard state.compare.models.count >= 2 else {
            state.show("add a base and a variant first (a)")
            return []
        }
        state.compare.editingPrompt = true
    case .remeasure: return startComparison(&state)
    case .addModel:
        state.modal = .openModel(ModelPicker(entries: [], purpose: .compare))
        return [.listLibrary]
    case .removeModel:
        guard let row = state.compare.report?.models[safe: state.compare.selected] else { return [] }
        state.compare.models.removeAll { $0 == row.model }
        state.compare.missing.removeAll { $0 == row.model }
        state.compare.selected = 0
        state.show("removed \(row.model)")
        guard state.compare.models.count >= 2 else {
            state.compare.report = nil
            state.compare.status = .idle
            return []
        }
        return startComparison(&state)
    case .exportComparison:
        guard let report = state.compare.report else {
            state.show("nothing to export yet: measure first")
            return []
        }
        return [.exportComparison(report)]
    case .openCompress: return openCompress(&state)
    default: break
    }
    return []
}

/// Keys while the evaluation text or the generation prompt is being typed.
func performCompareFieldCommand(_ command: Command, _ state: inout AppState) -> [Effect] {
    let prompt = state.compare.editingPrompt
    var field = prompt ? state.compare.prompt : state.compare.data
    switch command {
    case .confirm:
        state.compare.editingData = false
        state.compare.editingPrompt = false
        return prompt ? startSideBySide(&state) : startComparison(&state)
    case .cancel:
        state.compare.editingData = false
        state.compare.editingPrompt = false
        return []
    case .deleteBackward: field.backspace()
    case .deleteForward: field.deleteForward()
    case .cursorLeft: field.moveLeft()
    case .cursorRight: field.moveRight()
    case .cursorHome: field.moveHome()
    case .cursorEnd: field.moveEnd()
    default: return []
    }
    if prompt { state.compare.prompt = field } else { state.compare.data = field }
    return []
}

/// Adds `path` to the models (the first is the base) and measures once there are two.
func addToComparison(_ path: String, _ state: inout AppState) -> [Effect] {
    guard !state.compare.models.contains(path) else {
        state.show("\(path) is already compared")
        return []
    }
    state.compare.models.append(path)
    guard state.compare.models.count >= 2 else {
        state.show("base: \(path); now add a variant (a)")
        return []
    }
    return startComparison(&state)
}

/// Asks the engine to measure the models on the chosen text (pausing training, which would skew the speeds).
func startComparison(_ state: inout AppState) -> [Effect] {
    guard state.compare.models.count >= 2 else {
        state.show("add a base and at least one variant first (a)")
        return []
    }
    state.compare.status = .measuring("starting", 0)
    state.compare.missing = []
    return (state.runState == .running ? [.pause] : []) + [.compare(state.compare.request)]
}

/// Starts the same prompt through every compared model still on disk.
func startSideBySide(_ state: inout AppState) -> [Effect] {
    guard state.compare.sideBySide?.isRunning != true else {
        state.show("already generating; wait for it to finish")
        return []
    }
    let models = state.compare.models.filter { !state.compare.isMissing($0) }
    let prompt = state.compare.prompt.text
    guard models.count >= 2, !prompt.isEmpty else {
        state.show(prompt.isEmpty ? "type a prompt first" : "side by side needs two models on disk")
        return []
    }
    state.compare.sideBySide = SideBySide(models: models, prompt: prompt)
    state.compare.tensorErrors = nil
    return [.generateSideBySide(models: models, prompt: prompt, count: 160, seed: 1337)]
}

/// The engine's answers for the Compare screen.
func updateCompare(_ state: inout AppState, _ action: Action) {
    switch action {
    case .comparisonProgress(let activity, let fraction):
        if state.compare.isMeasuring { state.compare.status = .measuring(activity, fraction) }
    case .comparisonFinished(let report):
        // A report for other models or another text belongs to a superseded request.
        guard report.models.map(\.model) == state.compare.models,
              state.compare.dataPath.map({ $0 == report.data }) ?? report.data.hasPrefix("validation split") else { return }
        state.compare.report = report
        state.compare.status = .measured
        state.compare.selected = min(state.compare.selected, report.models.count - 1)
    case .comparisonFailed(let message):
        state.compare.status = .failed(message)
        state.show("comparison failed: " + message, ticks: 100)
    case .modelsMissing(let paths):
        let new = paths.filter { !state.compare.missing.contains($0) }
        state.compare.missing = paths
        if let first = new.first { state.show("\(first) was deleted from outside", ticks: 100) }
    case .sideBySideOutput(let index, let text):
        if state.compare.sideBySide?.outputs.indices.contains(index) == true { state.compare.sideBySide?.outputs[index] += text }
    case .sideBySideFinished(let index, let summary):
        if state.compare.sideBySide?.summaries.indices.contains(index) == true { state.compare.sideBySide?.summaries[index] = summary }
    case .sideBySideFailed(let index, let message):
        if state.compare.sideBySide?.failures.indices.contains(index) == true { state.compare.sideBySide?.failures[index] = message }
    case .tensorErrorsMeasured(let variant, let errors):
        if state.compare.tensorErrors?.model == variant { state.compare.tensorErrors?.errors = errors }
    case .tensorErrorsFailed(let variant, let message):
        if state.compare.tensorErrors?.model == variant { state.compare.tensorErrors?.failure = message }
    default: break
    }
}

extension Array {
    /// The element at `index`, or nil outside the array.
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
