// The pure state machine of the UI: applies one Action to the AppState and returns the Effects
// the host must run. Keys are looked up in the Keymap for the current context, so the help overlay
// describes exactly this code. Run control only asks (Effects); the run state changes when the
// engine says so (`.runStateChanged`), so what the header shows is always what the engine does.

import WhittleEngine

/// Applies `action` to `state` and returns the effects to run, in order.
public func update(_ state: inout AppState, _ action: Action) -> [Effect] {
    switch action {
    case .key(let key):
        return handleKey(&state, key)
    case .mouse(let event):
        return handleMouse(&state, event)
    case .resize(let width, let height):
        state.terminalWidth = max(width, 0)
        state.terminalHeight = max(height, 0)
        return []
    case .tick:
        if state.messageTicks > 0 { state.messageTicks -= 1 }
        if state.messageTicks == 0 { state.message = nil }
        return []
    case .runStateChanged(let runState):
        state.runState = runState
        return []
    case .unsavedProgressChanged(let unsaved):
        state.hasUnsavedProgress = unsaved
        return []
    case .checkpointSaved:
        state.hasUnsavedProgress = false
        state.show("checkpoint saved")
        return []
    case .hyperparametersApplied(let values):
        if state.editing == nil { state.hyperparameters = values }
        return []
    case .runConfigChanged(let config, let vocabularySize):
        state.runConfig = config
        state.vocabularySize = vocabularySize
        return []
    case .hyperparameterRejected(let message):
        state.validationError = message
        state.show(message, ticks: 100)
        return []
    case .engineMessage(let message):
        state.show(message, ticks: 100)
        return []
    case .generationStarted(let step):
        state.generate.status = .generating(step: step)
        return []
    case .generationOutput(let text):
        state.generate.output += text
        return []
    case .generationFinished(let summary):
        if case .generating(let step) = state.generate.status {
            state.generate.status = .finished(step: step, summary)
        } else {
            state.generate.status = .finished(step: 0, summary)
        }
        return []
    case .generationFailed(let message):
        state.generate.status = .failed(message)
        state.show("generation failed: " + message, ticks: 100)
        return []
    case .modelsListed(let entries):
        if case .openModel(var picker) = state.modal {
            picker.entries = entries
            picker.selected = min(picker.selected, max(picker.visible.count - 1, 0))
            state.modal = .openModel(picker)
        }
        return []
    case .newRunChecked(let check):
        if case .newRun(var form) = state.modal {
            form.check = check
            state.modal = .newRun(form)
        }
        return []
    case .experimentsStarted(let directory):
        state.experiments.directory = directory
        return []
    case .experimentsProgress(let runs, let running):
        let wasRunning = state.experiments.isRunning
        state.experiments.runs = runs
        state.experiments.isRunning = running
        state.experiments.selected = min(state.experiments.selected, max(runs.count - 1, 0))
        if wasRunning, !running {
            let failed = runs.filter { if case .failed = $0.status { true } else { false } }.count
            state.show("experiments done: \(runs.count - failed) finished" + (failed > 0 ? ", \(failed) failed" : ""), ticks: 100)
        }
        return []
    case .comparisonProgress, .comparisonFinished, .comparisonFailed, .modelsMissing, .sideBySideOutput,
         .sideBySideFinished, .sideBySideFailed, .tensorErrorsMeasured, .tensorErrorsFailed:
        updateCompare(&state, action)
        return []
    case .runDirectoryChanged, .modelInspected, .modelInspectionFailed, .passProgress, .passFinished, .passFailed,
         .passCancelled, .scanProgress, .scanFinished, .scanFailed, .scanCancelled:
        return updateCompress(&state, action)
    case .compressionProgress, .compressionFinished, .compressionFailed:
        updateLiveCompression(&state, action)
        return []
    case .runReplaced:
        state.runConfig = nil
        state.vocabularySize = 0
        state.modal = nil
        state.editing = nil
        state.validationError = nil
        state.generate.status = .ready
        state.liveCompression = LiveCompressionState()
        return []
    }
}

extension AppState {
    /// The config panel edits are validated against: the run's as the engine applied it, or the
    /// defaults before a run has loaded.
    var editableConfig: TrainingConfig { runConfig ?? TrainingConfig() }

    /// `scroll` clamped to what the help overlay can show at this terminal height.
    func helpScroll(_ scroll: Int) -> Int {
        min(max(scroll, 0), Keymap.maxHelpScroll(height: terminalHeight, ascii: useASCII))
    }

    /// Shows `text` in the status bar for about two seconds of ticks.
    mutating func show(_ text: String, ticks: Int = 40) {
        message = text
        messageTicks = ticks
    }
}

func handleKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    let context = state.keyContext
    if case .openModel(var picker) = state.modal, picker.filtering, case .character(let c) = key, !c.isNewline {
        picker.filter.insert(c)
        picker.selected = 0
        state.modal = .openModel(picker)
        return []
    }
    if case .newRun(var form) = state.modal, case .character(let c) = key {
        guard form.focus.accepts(c) else { return [] }
        form[form.focus].insert(c)
        return recheck(form, &state)
    }
    if context == .compareField, !state.isTooSmall, case .character(let c) = key, !c.isNewline {
        if state.compare.editingPrompt { state.compare.prompt.insert(c) } else { state.compare.data.insert(c) }
        return []
    }
    if context == .compress, !state.isTooSmall, case .character(let c) = key, state.compress.focus.accepts(c) {
        typeIntoCompress(c, &state)
        return []
    }
    if [.generate, .experiments, .compare, .compareField, .compress].contains(context) {
        if state.isTooSmall {
            if key == .character("q") { return perform(.quit, &state) }
            return key == .escape ? perform(.toggleScreen, &state) : []
        }
        if context == .generate, case .character(let c) = key {
            let field = state.generate.focus
            if field.accepts(c) {
                state.generate[field].insert(c)
                state.generate.error = nil
            }
            return []
        }
    }
    if context == .experiments, !state.isTooSmall, state.experiments.focus != .runs, case .character(let c) = key,
        !c.isNewline
    {
        state.experiments[state.experiments.focus].insert(c)
        state.experiments.error = nil
        return []
    }
    if context == .editing, case .character(let c) = key, !c.isNewline {
        state.editing?.insert(c)
        state.validationError = nil
        return []
    }
    if case .runSteps(var field, _) = state.modal, case .character(let c) = key, c.isNumber {
        field.insert(c)
        state.modal = .runSteps(field, error: nil)
        return []
    }
    if state.isTooSmall, context == .global || context == .hyperparameters {
        let command = Keymap.command(for: key, in: context)
        return command == .quit || command == .cancel ? perform(command ?? .cancel, &state) : []
    }
    guard let command = Keymap.command(for: key, in: context) else {
        if context == .hyperparameters, case .character(let c) = key, c.isNumber || c == "." {
            state.editing = TextField(String(c))
            state.validationError = nil
        } else if case .runSteps(var field, _) = state.modal, key == .backspace {
            field.backspace()
            state.modal = .runSteps(field, error: nil)
        }
        return []
    }
    return perform(command, &state)
}

func perform(_ command: Command, _ state: inout AppState) -> [Effect] {
    let fieldEdits: [Command] = [.deleteBackward, .deleteForward, .cursorLeft, .cursorRight, .cursorHome, .cursorEnd]
    if state.keyContext == .generate, fieldEdits.contains(command) { return performGenerateCommand(command, &state) }
    if state.keyContext == .picker || state.keyContext == .newRun { return performRunDialogCommand(command, &state) }
    if state.keyContext == .liveCompress { return performLiveCompressCommand(command, &state) }
    if state.keyContext == .experiments, command != .help, command != .toggleScreen {
        return performExperimentsCommand(command, &state)
    }
    if [.compare, .compareField].contains(state.keyContext), command != .help, command != .toggleScreen {
        return performCompareCommand(command, &state)
    }
    if state.keyContext == .compress, command != .help, command != .toggleScreen {
        return performCompressCommand(command, &state)
    }
    switch command {
    case .toggleRun: return toggleRun(&state)
    case .singleStep:
        guard state.runState != .running else {
            state.show("pause first (Space) to step")
            return []
        }
        guard state.runState != .finished else {
            state.show("the run is finished")
            return []
        }
        return [.step(1)]
    case .runSteps:
        state.modal = .runSteps(TextField(String(state.runStepCount)), error: nil)
        return []
    case .checkpoint:
        guard state.runState != .idle, state.runState != .loading else {
            state.show("nothing to save: no run yet")
            return []
        }
        state.show("saving checkpoint...")
        return [.saveCheckpoint]
    case .nextPane, .previousPane:
        let panes = Pane.allCases
        let index = panes.firstIndex(of: state.focus) ?? 0
        state.focus = panes[(index + (command == .nextPane ? 1 : panes.count - 1)) % panes.count]
        return []
    case .help:
        state.modal = .help(scroll: 0)
        return []
    case .quit:
        if state.hasUnsavedProgress {
            state.modal = .confirmQuit
            return []
        }
        return [.quit]
    case .cancel:
        state.editing = nil
        state.validationError = nil
        state.message = nil
        return []
    case .cycleTheme, .toggleLogScale, .toggleTimeAxis, .smoothMore, .smoothLess, .toggleScreen:
        return performViewCommand(command, &state)
    case .generateText, .nextField, .previousField:
        return performGenerateCommand(command, &state)
    case .openExperiments:
        state.screen = .experiments
        return []
    case .openCompare:
        state.screen = .compare
        return state.compare.models.isEmpty ? [] : [.checkModels(state.compare.models)]
    case .openCompress:
        return openCompress(&state)
    case .pruneNow, .quantizeNow:
        return openLiveCompress(command == .pruneNow ? .prune : .quantize, &state)
    case .openModelDialog:
        state.modal = .openModel(ModelPicker(entries: []))
        return [.listModels]
    case .newRunDialog:
        return recheck(NewRunForm(), &state)
    default:
        return performPaneCommand(command, &state)
    }
}

/// Space: asks the engine to start, pause or resume, from the state it last published.
func toggleRun(_ state: inout AppState) -> [Effect] {
    switch state.runState {
    case .loading, .idle: return [.startTraining]
    case .running: return [.pause]
    case .paused: return [.resume]
    case .finished:
        state.show("the run is finished")
    case .failed(let message):
        state.show("the run failed: " + message, ticks: 100)
    case .cancelled, .stopped:
        state.show("the run has stopped")
    }
    return []
}

func performPaneCommand(_ command: Command, _ state: inout AppState) -> [Effect] {
    let count = HyperparameterID.allCases.count
    switch command {
    case .moveUp: state.selectedHyperparameter = (state.selectedHyperparameter + count - 1) % count
    case .moveDown: state.selectedHyperparameter = (state.selectedHyperparameter + 1) % count
    case .edit:
        state.editing = TextField(state.hyperparameters[state.selectedID].editText)
        state.validationError = nil
    case .decrease, .increase:
        let id = state.selectedID
        if let field = state.editing {
            // While editing: try the neighbouring value in the buffer (the what-if preview follows), apply with Enter.
            let base = id.parse(field.text, in: state.editableConfig).success ?? state.hyperparameters[id]
            guard let next = id.nudge(base, up: command == .increase, in: state.editableConfig) else { return [] }
            state.editing = TextField(next.editText)
            state.validationError = nil
            return []
        }
        guard let next = id.nudge(state.hyperparameters[id], up: command == .increase, in: state.editableConfig) else {
            return []
        }
        state.hyperparameters[id] = next
        return [.setHyperparameter(id, next)]
    case .confirm: return confirmEdit(&state)
    case .deleteBackward: state.editing?.backspace()
    case .deleteForward: state.editing?.deleteForward()
    case .cursorLeft: state.editing?.moveLeft()
    case .cursorRight: state.editing?.moveRight()
    case .cursorHome: state.editing?.moveHome()
    case .cursorEnd: state.editing?.moveEnd()
    case .accept: return acceptDialog(&state)
    case .saveAndQuit:
        guard state.modal == .confirmQuit else { return [] }
        state.modal = nil
        return [.saveCheckpoint, .quit]
    case .discard:
        switch state.modal {
        case .confirmQuit:
            state.modal = nil
            return [.discardUnsaved, .quit]
        case .replaceRun(let replacement):
            state.modal = nil
            return [.replaceRun(replacement, saveCurrent: false)]
        default: return []
        }
    case .reject, .close: state.modal = nil
    case .scrollUp: if case .help(let scroll) = state.modal { state.modal = .help(scroll: max(scroll - 1, 0)) }
    case .scrollDown:
        if case .help(let scroll) = state.modal { state.modal = .help(scroll: state.helpScroll(scroll + 1)) }
    default: break
    }
    return []
}

extension Result {
    /// The success value, or nil.
    var success: Success? { if case .success(let value) = self { value } else { nil } }
}

func confirmEdit(_ state: inout AppState) -> [Effect] {
    guard let field = state.editing else { return [] }
    let id = state.selectedID
    switch id.parse(field.text, in: state.editableConfig) {
    case .success(let value):
        state.editing = nil
        state.validationError = nil
        guard value != state.hyperparameters[id] else { return [] }
        state.hyperparameters[id] = value
        state.show("\(id.rawValue) = \(value.text) (applies at the next step)")
        return [.setHyperparameter(id, value)]
    case .failure(let error):
        state.validationError = error.message
        return []
    }
}

func acceptDialog(_ state: inout AppState) -> [Effect] {
    switch state.modal {
    case .confirmQuit:
        state.modal = nil
        return [.quit]
    case .replaceRun(let replacement):
        state.modal = nil
        return [.replaceRun(replacement, saveCurrent: true)]
    case .runSteps(let field, _):
        guard let count = Int(field.text), (1...1_000_000).contains(count) else {
            state.modal = .runSteps(field, error: "enter a whole number of steps, 1...1000000")
            return []
        }
        guard state.runState != .running else {
            state.modal = nil
            state.show("pause first (Space) to run N steps")
            return []
        }
        state.modal = nil
        state.runStepCount = count
        return [.step(count)]
    default:
        state.modal = nil
        return []
    }
}
