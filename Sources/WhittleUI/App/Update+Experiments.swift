// update() for the Experiments screen: editing the vary form, queueing, cancelling and exporting runs.

import WhittleEngine

/// The Experiments screen: field editing, planning and starting the queue, export and cancel.
func performExperimentsCommand(_ command: Command, _ state: inout AppState) -> [Effect] {
    let fields = ExperimentsState.Field.allCases
    let focus = state.experiments.focus
    let index = fields.firstIndex(of: focus) ?? 0
    let count = state.experiments.runs.count
    switch command {
    case .nextField:
        if focus == .runs, state.experiments.selected < count - 1 {
            state.experiments.selected += 1
        } else {
            state.experiments.focus = fields[(index + 1) % fields.count]
        }
    case .previousField:
        if focus == .runs, state.experiments.selected > 0 {
            state.experiments.selected -= 1
        } else {
            state.experiments.focus = fields[(index + fields.count - 1) % fields.count]
        }
    case .deleteBackward: state.experiments[focus].backspace()
    case .deleteForward: state.experiments[focus].deleteForward()
    case .cursorLeft: state.experiments[focus].moveLeft()
    case .cursorRight: state.experiments[focus].moveRight()
    case .cursorHome: state.experiments[focus].moveHome()
    case .cursorEnd: state.experiments[focus].moveEnd()
    case .startExperiments:
        guard !state.experiments.isRunning else {
            state.show("experiments are running; cancel first (F8) to start others")
            return []
        }
        guard let base = state.runConfig else {
            state.experiments.error = "load a run first: experiments start from its settings"
            return []
        }
        switch state.experiments.plan(base: base) {
        case .failure(let error):
            state.experiments.error = error.message
            return []
        case .success(let plan):
            state.experiments.error = nil
            state.experiments.variedKeys = plan.variedKeys
            state.experiments.plannedTarget = plan.targetLoss
            state.experiments.runs = plan.runs.map { ExperimentRun(name: $0.name, settings: $0.settings(plan.variedKeys)) }
            state.experiments.isRunning = true
            state.experiments.selected = 0
            state.experiments.focus = .runs
            state.show("queued \(plan.runs.count) runs of \(plan.runs.first?.config.maxIterations ?? 0) steps")
            // The live run pauses so the children get the cores (the engine reports the pause).
            return (state.runState == .running ? [.pause] : []) + [.startExperiments(plan)]
        }
    case .exportExperiments:
        guard state.experiments.doneCount > 0 else {
            state.show("nothing to export yet: no run has finished")
            return []
        }
        return [.exportExperiments]
    case .cancelExperiments:
        guard state.experiments.isRunning else {
            state.show("no experiments running")
            return []
        }
        state.show("cancelling the experiment queue...")
        return [.cancelExperiments]
    default: break
    }
    return []
}
