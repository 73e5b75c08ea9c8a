// The runs-and-models dialogs: `o` lists directories (with a `/` filter), `r` opens the new-run
// form whose every edit is checked by the host (engine messages, memory estimate), starting or
// opening asks to save an unsaved run first; render snapshots. The launcher itself is the engine's
// (RunLauncherTests); switching runs with a real session is in WorkbenchControllerTests.

import Foundation
import Testing
import WhittleTestSupport
import WhittleEngine

@testable import WhittleUI

@Suite struct RunDialogTests {
    static let entries = [
        ModelEntry(path: "sample-models/shakespeare-char-tiny", detail: "model"),
        ModelEntry(path: "runs/baby", detail: "run, step 2,000"),
        ModelEntry(path: "runs/quick", detail: "run, step 100"),
    ]

    func key(_ state: inout AppState, _ key: Key) -> [Effect] { update(&state, .key(key)) }
    func type(_ state: inout AppState, _ text: String) -> [Effect] { text.flatMap { update(&state, .key(.character($0))) } }

    @Test func testPicker_listsFiltersAndOpens() {
        var state = AppState(width: 100, height: 30)
        #expect(key(&state, .character("o")) == [.listModels])
        _ = update(&state, .modelsListed(Self.entries))
        guard case .openModel(let picker) = state.modal else { Issue.record("no picker"); return }
        #expect(picker.visible.count == 3 && picker.selection == Self.entries[0])
        _ = key(&state, .character("/"))
        #expect(type(&state, "runs").isEmpty)
        _ = key(&state, .down)
        guard case .openModel(let filtered) = state.modal else { Issue.record("no picker"); return }
        #expect(filtered.visible.map(\.path) == ["runs/baby", "runs/quick"])
        #expect(filtered.selection?.path == "runs/quick")
        #expect(key(&state, .enter) == [.replaceRun(.open("runs/quick"), saveCurrent: false)])
        #expect(state.modal == nil)
    }

    @Test func testPicker_escClearsTheFilterThenCloses() {
        var state = AppState(width: 100, height: 30)
        _ = key(&state, .character("o"))
        _ = update(&state, .modelsListed(Self.entries))
        _ = key(&state, .character("/"))
        _ = type(&state, "zzz")
        guard case .openModel(let empty) = state.modal else { Issue.record("no picker"); return }
        #expect(empty.visible.isEmpty)
        #expect(key(&state, .enter).isEmpty)
        _ = key(&state, .escape)
        guard case .openModel(let cleared) = state.modal else { Issue.record("Esc closed instead of clearing"); return }
        #expect(cleared.filter.text.isEmpty && !cleared.filtering && cleared.visible.count == 3)
        _ = key(&state, .escape)
        #expect(state.modal == nil)
    }

    @Test func testOpeningWithUnsavedStepsAsksFirst() {
        var state = AppState(width: 100, height: 30)
        state.runState = .running
        state.hasUnsavedProgress = true
        _ = key(&state, .character("o"))
        _ = update(&state, .modelsListed(Self.entries))
        #expect(key(&state, .enter).isEmpty)
        #expect(state.modal == .replaceRun(.open(Self.entries[0].path)))
        #expect(render(state, .empty, .builtinDefault).text.contains("Save a checkpoint of the current run first?"))
        var saving = state
        #expect(key(&saving, .character("y")) == [.replaceRun(.open(Self.entries[0].path), saveCurrent: true)])
        var discarding = state
        #expect(key(&discarding, .character("d")) == [.replaceRun(.open(Self.entries[0].path), saveCurrent: false)])
        var staying = state
        #expect(key(&staying, .escape).isEmpty && staying.modal == nil)
    }

    @Test func testNewRun_everyEditIsCheckedAndEnterNeedsAValidCheck() {
        var state = AppState(width: 100, height: 30)
        let request = NewRunRequest(layers: 4, heads: 4, width: 128, context: 64,
                                    dataset: "datasets/tinyshakespeare.txt", seed: 1337)
        #expect(key(&state, .character("r")) == [.checkNewRun(request)])
        #expect(key(&state, .enter).isEmpty, "no check answered yet")
        _ = update(&state, .newRunChecked(.invalid("n_embd (130) must be divisible by n_head (4)")))
        _ = key(&state, .tab)
        _ = key(&state, .tab)
        var wider = request
        wider.width = 1280
        #expect(type(&state, "0x") == [.checkNewRun(wider)], "letters are ignored in number fields")
        _ = key(&state, .backspace)
        _ = key(&state, .backspace)
        _ = key(&state, .backspace)
        #expect(key(&state, .backspace).isEmpty, "an empty number is refused locally")
        guard case .newRun(let form) = state.modal, case .invalid(let message)? = form.check else {
            Issue.record("expected a local error"); return
        }
        #expect(message.contains("width"))
        _ = type(&state, "64")
        _ = update(&state, .newRunChecked(.valid(parameters: 200_000, memory: [MemoryCategory(name: "weights", bytes: 800_000)])))
        var expected = request
        expected.width = 64
        #expect(key(&state, .enter) == [.replaceRun(.start(expected), saveCurrent: false)])
    }

    /// A run the engine estimates to take very long shows the estimate and starts only on a second Enter.
    @Test func testNewRunForm_aVeryLongRunStartsOnlyAfterConfirmation() {
        var state = AppState(width: 100, height: 30)
        _ = key(&state, .character("r"))
        let warning = "training steps 1...2000 would take about 5.8 hours"
        _ = update(&state, .newRunChecked(.valid(parameters: 1_000, memory: [], warning: warning)))
        #expect(render(state, .empty, .builtinDefault).text.contains("would take about 5.8 hours"))
        #expect(key(&state, .enter).isEmpty, "the first Enter only asks")
        #expect(state.message?.contains("press Enter again") == true)
        guard case .newRun = state.modal else { Issue.record("the dialog closed"); return }
        let effects = key(&state, .enter)
        guard case .replaceRun(.start, _)? = effects.first else { Issue.record("the second Enter did not start: \(effects)"); return }
    }

    @Test(arguments: [(80, 24), (160, 48)])
    func testRunDialogs_renderSnapshots(size: (Int, Int)) {
        var state = AppState(width: size.0, height: size.1)
        _ = key(&state, .character("o"))
        _ = update(&state, .modelsListed(Self.entries))
        let picker = render(state, .empty, .builtinDefault).text
        #expect(picker.contains("open a model or run") && picker.contains("runs/baby") && picker.contains("run, step 2,000"))
        #expect(picker.contains("Enter open"))
        state.modal = nil
        _ = key(&state, .character("r"))
        _ = update(&state, .newRunChecked(.valid(parameters: 813_000, memory: [
            MemoryCategory(name: "weights", bytes: 3_252_000), MemoryCategory(name: "activations", bytes: 9_000_000),
        ])))
        let form = render(state, .empty, .builtinDefault)
        for label in ["new run", "layers", "heads", "width", "context", "dataset", "seed", "datasets/tinyshakespeare.txt",
                      "813k parameters", "weights", "activations"] {
            #expect(form.text.contains(label), "missing \(label)")
        }
        _ = update(&state, .newRunChecked(.invalid("n_embd (130) must be divisible by n_head (4)")))
        #expect(render(state, .empty, .builtinDefault).text.contains("must be divisible by n_head"))
        #expect(form.lines.allSatisfy { $0.count == size.0 })
    }
}
