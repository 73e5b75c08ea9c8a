// update() for the Compress screen: choosing the model, editing the pass (choices with ←/→, numbers
// and the output path typed), applying and cancelling it; and the engine's answers (what it read of
// the model, the pass's progress and end). A finished pass opens its variant in the Compare screen
// (a distil pass: its student, against the teacher).

import WhittleEngine

/// Opens the Compress screen, reading the default model (the run's starting model, else the run) the first time.
func openCompress(_ state: inout AppState) -> [Effect] {
    state.screen = .compress
    guard state.compress.model == nil else { return [] }
    let initFrom = state.runConfig?.initFrom
    guard let path = initFrom.flatMap({ $0 == "scratch" ? nil : $0 }) ?? state.runDirectory else { return [] }
    return chooseCompressModel(path, &state)
}

/// Makes `path` the model passes start from and asks the engine to read it.
func chooseCompressModel(_ path: String, _ state: inout AppState) -> [Effect] {
    state.compress.model = path
    state.compress.inspection = nil
    state.compress.inspectionError = nil
    state.compress.error = nil
    state.compress.sensitivity = nil
    state.compress.assignment = nil
    state.compress.scan = .idle
    followDefaultOutput(&state)
    return [.inspectModel(path)]
}

/// The output follows the model and plan until the user types one.
func followDefaultOutput(_ state: inout AppState) {
    guard !state.compress.outputEdited else { return }
    state.compress.output = TextField(state.compress.defaultOutput)
}

/// The Compress screen's keys.
func performCompressCommand(_ command: Command, _ state: inout AppState) -> [Effect] {
    let fields = state.compress.fields
    let focus = state.compress.focus
    let index = fields.firstIndex(of: focus) ?? 0
    let rows = state.compress.sensitivity?.rows.count ?? 0
    switch command {
    case .moveDown where focus == .map && state.compress.mapRow < rows - 1: state.compress.mapRow += 1
    case .moveUp where focus == .map && state.compress.mapRow > 0: state.compress.mapRow -= 1
    case .nextField, .moveDown: state.compress.focus = fields[(index + 1) % fields.count]
    case .previousField, .moveUp: state.compress.focus = fields[(index + fields.count - 1) % fields.count]
    case .decrease, .increase: nudgeCompressField(up: command == .increase, &state)
    case .chooseOrApply where focus == .model:
        state.modal = .openModel(ModelPicker(entries: [], purpose: .compress))
        return [.listLibrary]
    case .chooseOrApply where focus == .map: chooseMapCell(&state)
    case .chooseOrApply, .applyPass: return applyPass(&state)
    case .scanSensitivity: return startScan(&state)
    case .cancelPass:
        if state.compress.scan.isBusy {
            state.compress.scan = .cancelling
            return [.cancelPass]
        }
        guard state.compress.status.isBusy else {
            state.show("no pass or scan running")
            return []
        }
        state.compress.status = .cancelling
        return [.cancelPass]
    case .openCompare: state.screen = .compare
    case .deleteBackward: editCompressText(&state) { $0.backspace() }
    case .deleteForward: editCompressText(&state) { $0.deleteForward() }
    case .cursorHome: editCompressText(&state) { $0.moveHome() }
    case .cursorEnd: editCompressText(&state) { $0.moveEnd() }
    default: break
    }
    return []
}

/// A typed character for the focused row (ignored by rows that take none).
func typeIntoCompress(_ c: Character, _ state: inout AppState) {
    guard state.compress.focus.accepts(c) else { return }
    editCompressText(&state) { $0.insert(c) }
}

/// Applies `edit` to the focused text row and follows its consequences (a target picks the type).
func editCompressText(_ state: inout AppState, _ edit: (inout TextField) -> Void) {
    state.compress.error = nil
    switch state.compress.focus {
    case .samples: edit(&state.compress.samples)
    case .output:
        edit(&state.compress.output)
        state.compress.outputEdited = true
    case .sparsity:
        edit(&state.compress.sparsity)
        followDefaultOutput(&state)
    case .target:
        edit(&state.compress.target)
        applyTarget(&state)
    case .studentLayers, .studentWidth, .studentHeads, .alpha, .temperature, .steps:
        editDistilText(state.compress.focus, &state.compress.distil, edit)
        followDefaultOutput(&state)
    default: break
    }
}

/// Applies `edit` to the distil row `field`.
func editDistilText(_ field: CompressState.Field, _ form: inout DistilForm, _ edit: (inout TextField) -> Void) {
    switch field {
    case .studentLayers: edit(&form.layers)
    case .studentWidth: edit(&form.width)
    case .studentHeads: edit(&form.heads)
    case .alpha: edit(&form.alpha)
    case .temperature: edit(&form.temperature)
    case .steps: edit(&form.steps)
    default: break
    }
}

/// ←/→: the next or previous choice on choice rows, the cursor on text rows.
func nudgeCompressField(up: Bool, _ state: inout AppState) {
    func step<T: Equatable>(_ value: T, in values: [T]) -> T {
        let i = values.firstIndex(of: value) ?? 0
        return values[(i + (up ? 1 : values.count - 1)) % values.count]
    }
    switch state.compress.focus {
    case .type:
        state.compress.type = step(state.compress.type, in: QuantizationPlan.storableFormats)
        state.compress.target = TextField()
        state.compress.assignment = nil
    case .embedding:
        state.compress.embedding = step(state.compress.embedding, in: QuantizationPlan.storableFormats)
        state.compress.assignment = nil
    case .map:
        let columns = state.compress.mapFormats.count
        guard columns > 0 else { return }
        state.compress.mapColumn = (state.compress.mapColumn + (up ? 1 : columns - 1)) % columns
        return
    case .method: state.compress.method = step(state.compress.method, in: RoundingMethod.allCases)
    case .pass:
        state.compress.pass = step(state.compress.pass, in: CompressPass.allCases)
    case .pruneMethod: state.compress.pruneMethod = step(state.compress.pruneMethod, in: PruningMethod.allCases)
    case .pattern: state.compress.pattern = step(state.compress.pattern, in: CompressState.patternChoices)
    case .structure: state.compress.structure = step(state.compress.structure, in: CompressState.structureChoices)
    case .studentInit: state.compress.distil.studentInit = step(state.compress.distil.studentInit, in: StudentInit.allCases)
    case .model: return
    case .samples, .target, .output, .sparsity, .studentLayers, .studentWidth, .studentHeads, .alpha, .temperature, .steps:
        editCompressText(&state) { up ? $0.moveRight() : $0.moveLeft() }
        return
    }
    state.compress.error = nil
    followDefaultOutput(&state)
}

/// Enter on the map: the cursor's type for the cursor's tensor (the plan becomes per tensor).
func chooseMapCell(_ state: inout AppState) {
    guard let map = state.compress.sensitivity, var assignment = state.compress.currentAssignment,
          let format = state.compress.mapFormats[safe: state.compress.mapColumn],
          map.rows.indices.contains(state.compress.mapRow) else { return }
    let row = map.rows[state.compress.mapRow]
    guard row.kld(format) != nil else {
        state.compress.error = "\(format.rawValue) does not fit \(row.tensor) (rows of \(row.rowLength))"
        return
    }
    assignment[state.compress.mapRow] = format
    state.compress.assignment = assignment
    state.compress.target = TextField()
    state.compress.error = nil
}

/// F6: a sensitivity scan of the chosen fp32 model on calibration windows of its train split.
func startScan(_ state: inout AppState) -> [Effect] {
    guard !state.compress.scan.isBusy, !state.compress.status.isBusy else {
        state.show("wait for the running pass or scan (F8 cancels it)")
        return []
    }
    guard state.compress.pass == .quantize else {
        state.compress.error = "the sensitivity scan maps quantization types; choose the quantize pass (the pass row) first"
        return []
    }
    guard let model = state.compress.model, let inspection = state.compress.inspection, inspection.isFloat else {
        state.compress.error = "a scan needs an fp32 model read first (the model row)"
        return []
    }
    guard let samples = Int(state.compress.samples.text), samples >= 1 else {
        state.compress.error = "the scan needs a number of calibration windows of at least 1 (the calibration row)"
        return []
    }
    state.compress.error = nil
    state.compress.scan = .running("starting", 0)
    return [.scanSensitivity(basePath: model, samples: samples)]
}

/// A typed target bits per weight picks the least-KLD plan within it on the map, or else the largest
/// matrix type that fits it.
func applyTarget(_ state: inout AppState) {
    let text = state.compress.target.text
    guard !text.isEmpty else { return }
    guard let bits = Double(text), bits > 0 else {
        state.compress.error = "target bits per weight must be a number > 0"
        return
    }
    if let map = state.compress.sensitivity {
        do {
            state.compress.assignment = try map.plan(targetBitsPerWeight: bits)
        } catch {
            state.compress.error = (error as? WhittleError)?.message ?? "\(error)"
        }
        return
    }
    guard state.compress.inspection != nil else { return }
    guard let type = state.compress.type(fittingBits: bits) else {
        state.compress.error = "no type fits \(text) bits per weight with the embedding at \(state.compress.embedding.rawValue)"
        return
    }
    state.compress.type = type
    followDefaultOutput(&state)
}

/// Apply: checks the form, then asks the host to run the pass.
func applyPass(_ state: inout AppState) -> [Effect] {
    guard !state.compress.status.isBusy else {
        state.show("a pass is running; F8 cancels it")
        return []
    }
    let effect: Result<Effect, FormError> = switch state.compress.pass {
    case .quantize: state.compress.request().map { .quantize($0) }
    case .prune: state.compress.pruneRequest().map { .prune($0) }
    case .distil: state.compress.distilRequest().map { .distil($0) }
    }
    switch effect {
    case .failure(let error):
        state.compress.error = error.message
        return []
    case .success(let effect):
        state.compress.error = nil
        state.compress.status = .running("starting", 0)
        return [effect]
    }
}

/// The engine's answers for the Compress screen.
func updateCompress(_ state: inout AppState, _ action: Action) -> [Effect] {
    switch action {
    case .runDirectoryChanged(let path): state.runDirectory = path
    case .modelInspected(let inspection):
        guard inspection.path == state.compress.model else { return [] }
        state.compress.inspection = inspection
        state.compress.inspectionError = nil
        state.compress.distil = DistilForm(teacher: inspection.config)
        followDefaultOutput(&state)
        applyTarget(&state)
    case .modelInspectionFailed(let path, let message):
        guard path == state.compress.model else { return [] }
        state.compress.inspectionError = message
    case .passProgress(let activity, let fraction):
        if case .running = state.compress.status { state.compress.status = .running(activity, fraction) }
    case .passFinished(let directory):
        state.compress.status = .finished(directory: directory)
        state.compress.outputEdited = false
        state.show("made \(directory); comparing it with its base")
        guard let base = state.compress.model else { return [] }
        if state.compare.models.first != base { state.compare.models = [base] }
        // A model deleted from disk since the last comparison cannot be measured again: it leaves the list.
        let missing = state.compare.missing
        state.compare.models.removeAll { $0 == directory || missing.contains($0) }
        state.compare.models.append(directory)
        state.compare.selected = state.compare.models.count - 1
        state.compare.sideBySide = nil
        state.screen = .compare
        return startComparison(&state)
    case .passFailed(let message):
        state.compress.status = .failed(message)
        state.show("pass failed: " + message, ticks: 100)
    case .passCancelled:
        state.compress.status = .cancelled
        state.show("pass cancelled; nothing was written", ticks: 100)
    case .scanProgress(let activity, let fraction):
        if case .running = state.compress.scan { state.compress.scan = .running(activity, fraction) }
    case .scanFinished(let map):
        state.compress.scan = .idle
        state.compress.sensitivity = map
        state.compress.assignment = nil
        state.compress.mapRow = 0
        state.compress.mapColumn = 0
        state.compress.focus = .map
        state.show(String(format: "scanned %d tensors × %d types in %.1f s", map.rows.count, map.formats.count, map.seconds))
    case .scanFailed(let message):
        state.compress.scan = .failed(message)
        state.show("scan failed: " + message, ticks: 100)
    case .scanCancelled:
        state.compress.scan = .cancelled
        state.show("scan cancelled", ticks: 100)
    default: break
    }
    return []
}
