// update() for prune-now and quantize-now on the Train screen: opening the form (only when a run is
// loaded and nothing is already being compressed), moving through it, asking the engine, and showing
// what it reports. The state never guesses the result: `activity` is cleared and the figures shown
// only when the engine's event arrives.

/// `p` / `z`: opens the form for `kind`.
func openLiveCompress(_ kind: LiveCompressForm.Kind, _ state: inout AppState) -> [Effect] {
    switch state.runState {
    case .loading:
        state.show("the run is still loading")
        return []
    case .failed, .stopped, .cancelled:
        state.show("no live run to \(kind.rawValue)")
        return []
    default: break
    }
    if let activity = state.liveCompression.activity {
        state.show("busy: " + activity)
        return []
    }
    state.modal = .liveCompress(LiveCompressForm(kind: kind))
    return []
}

/// Keys while the form is open.
func performLiveCompressCommand(_ command: Command, _ state: inout AppState) -> [Effect] {
    guard case .liveCompress(var form) = state.modal else { return [] }
    switch command {
    case .moveDown, .nextField:
        form.focus = (form.focus + 1) % form.rows.count
    case .moveUp, .previousField:
        form.focus = (form.focus + form.rows.count - 1) % form.rows.count
    case .decrease, .increase:
        form.cycle(up: command == .increase)
    case .accept:
        state.modal = nil
        let activity = (form.kind == .prune ? "pruning " : "quantizing to ") + form.effect.liveCompressionSummary + "..."
        state.liveCompression.activity = activity
        state.show(activity + " (at the next step boundary)", ticks: 100_000)
        return [form.effect]
    case .close:
        state.modal = nil
        return []
    case .help:
        state.modal = .help(scroll: 0)
        return []
    default: return []
    }
    state.modal = .liveCompress(form)
    return []
}

/// The engine's news about a prune-now / quantize-now.
func updateLiveCompression(_ state: inout AppState, _ action: Action) {
    switch action {
    case .compressionProgress(let text):
        guard let text, state.liveCompression.activity != nil else { return }
        state.liveCompression.activity = text
        state.show(text, ticks: 100_000)
    case .compressionFinished(let event):
        state.liveCompression.activity = nil
        state.liveCompression.last = event
        state.show(event.sentence, ticks: 400)
    case .compressionFailed(let message):
        state.liveCompression.activity = nil
        state.show("not compressed: " + message, ticks: 200)
    default: break
    }
}

extension Effect {
    /// "wanda 50%", "q4_0 rtn" for prune-now and quantize-now effects.
    var liveCompressionSummary: String {
        switch self {
        case .pruneNow(let request): request.summary
        case .quantizeNow(let request): request.summary
        default: ""
        }
    }
}
