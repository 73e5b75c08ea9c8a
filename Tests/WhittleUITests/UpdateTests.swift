// Tests for `update`: every binding in the keymap does something in its context, the run-control
// keys emit the right effects, hyperparameter editing validates, mouse hits, and a scripted session.

import Testing

@testable import WhittleUI

@Suite struct UpdateTests {
    /// A state in which `context` receives keys, with room for every command to have an effect.
    static func state(for context: KeyContext) -> AppState {
        var state = AppState(width: 100, height: 30)
        state.message = "hello"
        state.messageTicks = 5
        switch context {
        case .global: break
        case .hyperparameters: state.focus = .hyperparameters
        case .editing:
            state.focus = .hyperparameters
            var field = TextField("12")
            field.moveLeft()
            state.editing = field
        case .dialog:
            state.runState = .running
            state.hasUnsavedProgress = true
            state.modal = .confirmQuit
        case .help: state.modal = .help(scroll: 1)
        case .generate:
            state.screen = .generate
            state.generate[.prompt].moveLeft()
        case .picker:
            var picker = ModelPicker(entries: ["a/x", "a/y", "a/z"].map { ModelEntry(path: $0, detail: "model") })
            picker.filter = TextField("a")
            picker.selected = 1
            state.modal = .openModel(picker)
        case .newRun:
            var form = NewRunForm(layers: 12)
            form[.layers].moveLeft()
            form.check = .valid(parameters: 1000, memory: [])
            state.modal = .newRun(form)
        case .experiments:
            state.screen = .experiments
            state.experiments.vary[0].moveLeft()
        case .compare, .compareField:
            state.screen = .compare
            let report = CompareFixture.report
            state.compare.models = report.models.map(\.model)
            state.compare.report = report
            state.compare.status = .measured
            state.compare.selected = 1
            state.compare.data = TextField("ab")
            state.compare.data.moveLeft()
            state.compare.editingData = context == .compareField
        case .compress:
            state.screen = .compress
            state.compress.focus = .output
            state.compress.output = TextField("variants/x")
            state.compress.output.moveLeft()
        case .liveCompress:
            state.modal = .liveCompress(LiveCompressForm(kind: .prune))
        }
        return state
    }

    @Test func testUpdate_everyKeyBindingChangesStateOrEmitsEffects() {
        for binding in Keymap.bindings {
            for key in binding.keys {
                let before = Self.state(for: binding.context)
                #expect(before.keyContext == binding.context)
                var after = before
                let effects = update(&after, .key(key))
                #expect(
                    after != before || !effects.isEmpty,
                    "\(key.label) (\(binding.command)) did nothing in \(binding.context)")
            }
        }
    }

    @Test func testUpdate_keymapHasNoConflictsWithinAContext() {
        for context in KeyContext.allCases {
            let keys = Keymap.bindings.filter { $0.context == context }.flatMap(\.keys)
            #expect(Set(keys).count == keys.count, "duplicate key in \(context)")
        }
    }

    @Test func testUpdate_spaceStartsPausesResumes() {
        var state = AppState()
        #expect(update(&state, .key(.character(" "))) == [.startTraining])
        #expect(state.runState == .idle, "the state changes when the engine says so")
        _ = update(&state, .runStateChanged(.running))
        #expect(update(&state, .key(.character(" "))) == [.pause])
        _ = update(&state, .runStateChanged(.paused))
        #expect(update(&state, .key(.character(" "))) == [.resume])
    }

    @Test func testUpdate_failedRunShowsAsFailedWithItsError() {
        var state = AppState(width: 100, height: 30)
        _ = update(&state, .runStateChanged(.failed("the dataset 'x.txt' does not exist")))
        #expect(update(&state, .key(.character(" "))).isEmpty, "a failed run does not start")
        #expect(state.message?.contains("x.txt") == true)
        state.message = nil
        let text = render(state, .empty, .builtinDefault).text
        #expect(text.contains("failed") && !text.contains("paused"))
        #expect(text.contains("training failed: the dataset 'x.txt' does not exist"))
    }

    @Test func testUpdate_stepOnlyWhenNotRunning() {
        var state = AppState()
        state.runState = .running
        #expect(update(&state, .key(.character("s"))).isEmpty)
        #expect(state.message?.contains("pause first") == true)
        state.runState = .paused
        #expect(update(&state, .key(.character("s"))) == [.step(1)])
    }

    @Test func testUpdate_runNStepsDialogValidates() {
        var state = AppState()
        state.runState = .paused
        _ = update(&state, .key(.character("n")))
        for _ in 0..<3 { _ = update(&state, .key(.backspace)) }
        _ = update(&state, .key(.character("0")))
        #expect(update(&state, .key(.enter)).isEmpty)
        guard case .runSteps(_, let error?) = state.modal else {
            Issue.record("expected a validation error")
            return
        }
        #expect(error.contains("whole number"))
        _ = update(&state, .key(.backspace))
        _ = update(&state, .key(.character("2")))
        _ = update(&state, .key(.character("5")))
        #expect(update(&state, .key(.enter)) == [.step(25)])
        #expect(state.modal == nil && state.runStepCount == 25)
    }

    @Test func testUpdate_invalidEditShowsErrorAndKeepsEditing() {
        var state = AppState()
        state.focus = .hyperparameters
        state.selectedHyperparameter = HyperparameterID.allCases.firstIndex(of: .beta2) ?? 0
        _ = update(&state, .key(.enter))
        _ = update(&state, .key(.home))
        _ = update(&state, .key(.character("9")))
        #expect(update(&state, .key(.enter)).isEmpty)
        #expect(state.validationError?.contains("beta2") == true)
        #expect(state.editing != nil)
        _ = update(&state, .key(.escape))
        #expect(state.editing == nil && state.validationError == nil)
    }

    @Test func testUpdate_typingADigitStartsAnEdit() {
        var state = AppState()
        state.focus = .hyperparameters
        state.selectedHyperparameter = HyperparameterID.allCases.firstIndex(of: .batchSize) ?? 0
        _ = update(&state, .key(.character("3")))
        _ = update(&state, .key(.character("2")))
        #expect(update(&state, .key(.enter)) == [.setHyperparameter(.batchSize, .integer(32))])
    }

    @Test func testUpdate_arrowsCycleScheduleChoice() {
        var state = AppState()
        state.focus = .hyperparameters
        state.selectedHyperparameter = HyperparameterID.allCases.firstIndex(of: .schedule) ?? 0
        let effects = update(&state, .key(.right))
        #expect(effects == [.setHyperparameter(.schedule, .choice("linear"))])
    }

    @Test func testUpdate_quitAsksOnlyWhenUnsaved() {
        var state = AppState()
        #expect(update(&state, .key(.character("q"))) == [.quit])
        state.runState = .paused
        state.hasUnsavedProgress = true
        #expect(update(&state, .key(.character("q"))).isEmpty)
        #expect(state.modal == .confirmQuit)
        #expect(update(&state, .key(.character("c"))) == [.saveCheckpoint, .quit])
        _ = update(&state, .checkpointSaved)
        #expect(update(&state, .key(.character("q"))) == [.quit])
    }

    @Test func testUpdate_tooSmallOnlyAcceptsQuit() {
        var state = AppState(width: 60, height: 20)
        #expect(update(&state, .key(.character(" "))).isEmpty)
        #expect(state.runState == .idle)
        #expect(update(&state, .key(.character("q"))) == [.quit])
    }

    @Test func testUpdate_cycleThemeWrapsAround() {
        var state = AppState(themeName: "mono", themeNames: ["default", "light", "mono"])
        #expect(update(&state, .key(.character("t"))) == [.cycleTheme("default")])
        #expect(state.themeName == "default")
    }

    @Test func testUpdate_mouseClickSelectsHyperparameterRow() {
        var state = AppState(width: 80, height: 24)
        let layout = TrainLayout(width: 80, height: 24)
        _ = update(
            &state, .mouse(MouseEvent(x: layout.hyperparameters.x + 3, y: layout.hyperparameters.y + 4, kind: .press)))
        #expect(state.focus == .hyperparameters && state.selectedHyperparameter == 3)
        _ = update(&state, .mouse(MouseEvent(x: layout.lossChart.x + 3, y: layout.lossChart.y + 3, kind: .press)))
        #expect(state.focus == .charts)
    }

    @Test func testUpdate_helpScrollStopsAtTheLastPage() {
        var state = AppState(width: 80, height: 24)
        _ = update(&state, .key(.character("?")))
        for _ in 0..<200 { _ = update(&state, .key(.down)) }
        let maxScroll = Keymap.maxHelpScroll(height: 24, ascii: false)
        #expect(maxScroll > 0 && state.modal == .help(scroll: maxScroll))
        let lastLine = Keymap.helpSections(ascii: false).last?.hints.last?.description ?? "?"
        #expect(render(state, .empty, .builtinDefault).text.contains(lastLine))
        _ = update(&state, .key(.up))
        #expect(state.modal == .help(scroll: maxScroll - 1))
    }

    @Test func testUpdate_resizeAndTick() {
        var state = AppState()
        _ = update(&state, .resize(width: 120, height: 40))
        #expect(state.terminalWidth == 120 && state.terminalHeight == 40)
        state.message = "x"
        state.messageTicks = 1
        _ = update(&state, .tick)
        #expect(state.message == nil)
    }

    @Test func testUpdate_scriptedSessionStartPauseEditResumeHelpQuit() {
        var state = AppState(width: 100, height: 30)
        var effects: [Effect] = []
        func press(_ keys: Key...) { for key in keys { effects += update(&state, .key(key)) } }
        func type(_ text: String) { for c in text { effects += update(&state, .key(.character(c))) } }

        press(.character(" "))  // start
        effects += update(&state, .runStateChanged(.running))  // the engine reports it
        effects += update(&state, .unsavedProgressChanged(true))
        press(.character(" "))  // pause
        effects += update(&state, .runStateChanged(.paused))
        press(.tab)  // focus the hyperparameter panel
        #expect(state.focus == .hyperparameters && state.selectedID == .learningRate)
        press(.enter)  // edit learning rate
        #expect(state.editing?.text == "0.001")
        for _ in 0..<5 { press(.backspace) }
        type("3e-4")
        press(.enter)  // apply
        press(.character(" "))  // resume
        press(.character("?"))  // help
        #expect(state.modal == .help(scroll: 0))
        press(.escape)  // close help
        press(.character("q"))  // quit asks: the run is unsaved
        #expect(state.modal == .confirmQuit)
        press(.character("y"))

        #expect(effects == [.startTraining, .pause, .setHyperparameter(.learningRate, .real(3e-4)), .resume, .quit])
        #expect(state.hyperparameters[.learningRate] == .real(3e-4))
        let screen = render(state, .empty, .builtinDefault)
        #expect(screen.text.contains("0.0003"))
    }
}

@Suite struct MemoryTerminalTests {
    @Test func testMemoryTerminal_drivesTheLoopUntilQuit() {
        let terminal = MemoryTerminal(width: 80, height: 24, actions: [.key(.character(" ")), .runStateChanged(.running),
                                                                       .key(.character("?")), .key(.escape),
                                                                       .key(.character(" ")), .runStateChanged(.paused),
                                                                       .key(.character("q")), .key(.character("y"))])
        var state = AppState(width: terminal.size.width, height: terminal.size.height)
        var effects: [Effect] = []
        while let action = terminal.nextAction(timeoutMilliseconds: 0), !effects.contains(.quit) {
            effects += update(&state, action)
            terminal.present(render(state, .empty, .builtinDefault))
        }
        #expect(effects == [.startTraining, .pause, .quit])
        #expect(terminal.presented.count == 7, "no steps were reported unsaved, so q quits without asking")
        #expect(terminal.presented[2].text.contains("help"))
        #expect(terminal.lastScreen?.text.contains("paused") == true)
    }
}
