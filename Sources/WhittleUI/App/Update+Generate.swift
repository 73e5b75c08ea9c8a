// update() for the Generate screen: the prompt form and starting a generation.

/// The Generate screen's form: field focus, editing and starting a generation.
func performGenerateCommand(_ command: Command, _ state: inout AppState) -> [Effect] {
    let fields = GenerateForm.Field.allCases
    let field = state.generate.focus
    let index = fields.firstIndex(of: field) ?? 0
    switch command {
    case .generateText:
        guard !state.generate.status.isBusy else {
            state.show("already generating; wait for it to finish")
            return []
        }
        switch state.generate.request() {
        case .success(let request):
            state.generate.error = nil
            state.generate.output = request.prompt
            state.generate.status = .copying
            return [.generate(request)]
        case .failure(let error):
            state.generate.error = error.message
            return []
        }
    case .nextField: state.generate.focus = fields[(index + 1) % fields.count]
    case .previousField: state.generate.focus = fields[(index + fields.count - 1) % fields.count]
    case .deleteBackward: state.generate[field].backspace()
    case .deleteForward: state.generate[field].deleteForward()
    case .cursorLeft: state.generate[field].moveLeft()
    case .cursorRight: state.generate[field].moveRight()
    case .cursorHome: state.generate[field].moveHome()
    case .cursorEnd: state.generate[field].moveEnd()
    default: break
    }
    return []
}
