// update() for the run dialogs: opening a model or run directory and the new-run form.

import WhittleEngine

/// Re-reads the new-run form into the modal and asks the host to check it (or shows why it cannot).
func recheck(_ form: NewRunForm, _ state: inout AppState) -> [Effect] {
    var form = form
    form.confirmedLong = false
    switch form.request() {
    case .success(let request):
        state.modal = .newRun(form)
        return [.checkNewRun(request)]
    case .failure(let error):
        form.check = .invalid(error.message)
        state.modal = .newRun(form)
        return []
    }
}

/// Replaces the current run, asking first whether to save it when it has unsaved steps.
func replaceRun(_ replacement: RunReplacement, _ state: inout AppState) -> [Effect] {
    if state.hasUnsavedProgress {
        state.modal = .replaceRun(replacement)
        return []
    }
    state.modal = nil
    return [.replaceRun(replacement, saveCurrent: false)]
}

/// Keys of the open-model picker and the new-run form.
func performRunDialogCommand(_ command: Command, _ state: inout AppState) -> [Effect] {
    if case .openModel(var picker) = state.modal {
        let count = picker.visible.count
        switch command {
        case .moveUp: picker.selected = max(picker.selected - 1, 0)
        case .moveDown: picker.selected = min(picker.selected + 1, max(count - 1, 0))
        case .startFilter: picker.filtering = true
        case .deleteBackward:
            picker.filter.backspace()
            picker.selected = 0
        case .close:
            if picker.filtering || !picker.filter.text.isEmpty {
                picker = ModelPicker(entries: picker.entries, purpose: picker.purpose)
            } else {
                state.modal = nil
                return []
            }
        case .accept:
            guard let entry = picker.selection else {
                state.show("nothing selected")
                return []
            }
            switch picker.purpose {
            case .openRun: return replaceRun(.open(entry.path), &state)
            case .compare:
                state.modal = nil
                return addToComparison(entry.path, &state)
            case .compress:
                state.modal = nil
                return chooseCompressModel(entry.path, &state)
            }
        default: return []
        }
        state.modal = .openModel(picker)
        return []
    }
    guard case .newRun(var form) = state.modal else { return [] }
    let fields = NewRunForm.Field.allCases
    let index = fields.firstIndex(of: form.focus) ?? 0
    switch command {
    case .nextField: form.focus = fields[(index + 1) % fields.count]
    case .previousField: form.focus = fields[(index + fields.count - 1) % fields.count]
    case .cursorLeft: form[form.focus].moveLeft()
    case .cursorRight: form[form.focus].moveRight()
    case .cursorHome: form[form.focus].moveHome()
    case .cursorEnd: form[form.focus].moveEnd()
    case .deleteBackward:
        form[form.focus].backspace()
        return recheck(form, &state)
    case .deleteForward:
        form[form.focus].deleteForward()
        return recheck(form, &state)
    case .close:
        state.modal = nil
        return []
    case .accept:
        guard case .success(let request) = form.request(), case .valid = form.check else {
            state.show("fix the settings first (the dialog says what is wrong)")
            return []
        }
        if case .valid(_, _, let warning?)? = form.check, !form.confirmedLong {
            form.confirmedLong = true
            state.modal = .newRun(form)
            state.show(warning + ": press Enter again to start it anyway")
            return []
        }
        return replaceRun(.start(request), &state)
    default: return []
    }
    state.modal = .newRun(form)
    return []
}
