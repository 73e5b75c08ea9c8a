// Golden 80×24 frames of every workbench screen: Train, Generate, Experiments, Compare, Compress, Help, the open-model,
// new-run, run-N-steps and quit dialogs, and the too-small screen (79×24); the prune-now form and a
// loss chart with a compression marker are in LiveCompressionUITests.swift. Each frame is the pure
// `render(state, metrics, theme)` of a state driven by real keys and by data replayed from real runs
// (GoldenRun.swift, Fixtures/golden), compared character for character with Golden/<name>.txt.
//
// After an intended change to what the workbench draws, rewrite the golden files and review them:
//
//     WHITTLE_UPDATE_GOLDEN=1 swift test --filter GoldenFrameTests
//     git diff Tests/WhittleUITests/Golden
//
// The files hold the screen's characters only (each line exactly as wide as the screen, trailing
// spaces included); colours and attributes are covered by the other render tests.

import Foundation
import Testing
import WhittleEngine
import WhittleTestSupport

@testable import WhittleUI

@Suite struct GoldenFrameTests {
    /// The step the Train screen is paused at (of the run's 200), so the header shows progress and an ETA.
    static let pausedStep = 150

    /// Renders `state` with `metrics` and compares the characters with Golden/<name>.txt.
    func expectFrame(_ name: String, _ state: AppState, _ metrics: TrainingMetricsSnapshot,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let screen = render(state, metrics, .builtinDefault)
        #expect(screen.width == state.terminalWidth && screen.height == state.terminalHeight, sourceLocation: sourceLocation)
        if let mismatch = try GoldenFile("Tests/WhittleUITests/Golden/\(name).txt").mismatch(screen.text + "\n") {
            Issue.record(Comment(rawValue: mismatch), sourceLocation: sourceLocation)
        }
    }

    /// The run paused at `pausedStep`: its state and metrics.
    func pausedRun() throws -> (AppState, TrainingMetricsSnapshot) {
        let snapshot = try GoldenRun.snapshot(steps: Self.pausedStep)
        return (GoldenRun.state(snapshot), GoldenRun.metrics(snapshot))
    }

    func type(_ text: String, into state: inout AppState) {
        for character in text { _ = update(&state, .key(.character(character))) }
    }

    @Test func testGoldenFrame_train() throws {
        let (state, metrics) = try pausedRun()
        #expect(metrics.step == Self.pausedStep && metrics.validationLoss.count == Self.pausedStep / 20)
        try expectFrame("train", state, metrics)
    }

    @Test func testGoldenFrame_trainFinished() throws {
        let snapshot = try GoldenRun.snapshot(steps: 200)
        try expectFrame("train-finished", GoldenRun.state(snapshot), GoldenRun.metrics(snapshot))
    }

    @Test func testGoldenFrame_hyperparameterEditWithMemoryWhatIf() throws {
        let (paused, metrics) = try pausedRun()
        var state = paused
        _ = update(&state, .key(.tab))
        #expect(state.focus == .hyperparameters)
        for _ in 0..<HyperparameterID.allCases.firstIndex(of: .batchSize)! { _ = update(&state, .key(.down)) }
        _ = update(&state, .key(.enter))
        _ = update(&state, .key(.up))
        #expect(state.editing != nil && state.memoryWhatIf != nil, "editing the batch size with a what-if preview")
        try expectFrame("train-editing", state, metrics)
    }

    /// The generation fixture came from the run's final weights, so this frame shows the finished run.
    @Test func testGoldenFrame_generate() throws {
        let snapshot = try GoldenRun.snapshot(steps: 200)
        let metrics = GoldenRun.metrics(snapshot)
        var state = GoldenRun.state(snapshot)
        let (text, summary) = try GoldenRun.generation()
        _ = update(&state, .key(.character("g")))
        #expect(state.screen == .generate)
        // The form's defaults are the fixture's settings (ROMEO:, 0.8, top-k 40, seed 1337, 300 tokens).
        guard case .generate(let request)? = update(&state, .key(.enter)).first else {
            Issue.record("Enter did not ask for a generation")
            return
        }
        #expect(request == GenerateRequest(prompt: "ROMEO:", temperature: 0.8, topK: 200, seed: 1337, count: 300))
        _ = update(&state, .generationStarted(step: 200))
        _ = update(&state, .generationOutput(String(text.dropFirst(request.prompt.count))))
        _ = update(&state, .generationFinished(summary))
        #expect(state.generate.output == text)
        try expectFrame("generate", state, metrics)
    }

    @Test func testGoldenFrame_experiments() throws {
        let (paused, metrics) = try pausedRun()
        var state = paused
        _ = update(&state, .key(.character("e")))
        #expect(state.screen == .experiments)
        // vary 1: optimizer=adamw,lion; vary 2: empty; max_iters 100 (the default); target loss 3.1.
        for field in 0..<5 {
            if field > 0 { _ = update(&state, .key(.tab)) }
            guard field != 3 else { continue }
            _ = update(&state, .key(.end))
            for _ in 0..<40 { _ = update(&state, .key(.backspace)) }
            type(["optimizer=adamw,lion", "", "", "", "3.1"][field], into: &state)
        }
        let effects = update(&state, .key(.enter))
        guard case .startExperiments(let plan)? = effects.last else {
            Issue.record("Enter did not plan a queue: \(effects), \(state.experiments.error ?? "")")
            return
        }
        #expect(plan.runs.map(\.name) == ["optimizer-adamw", "optimizer-lion"])
        _ = update(&state, .runStateChanged(.paused))
        _ = update(&state, .experimentsStarted(directory: "runs/experiments-golden"))
        _ = update(&state, .experimentsProgress(try GoldenRun.experimentRuns(plan), running: false))
        try expectFrame("experiments", state, metrics)
    }

    @Test func testGoldenFrame_compare() throws {
        let (paused, metrics) = try pausedRun()
        var state = paused
        _ = update(&state, .key(.character("v")))
        #expect(state.screen == .compare)
        // The committed `whittle compare --json` of the tiny model and its q8_0 and q4_0 variants, the q4_0 selected.
        state.compare.models = CompareFixture.report.models.map(\.model)
        _ = update(&state, .comparisonFinished(CompareFixture.report))
        _ = update(&state, .key(.down))
        _ = update(&state, .key(.down))
        try expectFrame("compare", state, metrics)
    }

    @Test func testGoldenFrame_compress() throws {
        let (paused, metrics) = try pausedRun()
        var state = paused
        _ = update(&state, .key(.character("w")))
        #expect(state.screen == .compress)
        // The sample model as the engine read it, a q4_0 pass started and 7 of its 17 tensors rounded.
        let path = "sample-models/shakespeare-char-tiny"
        state.compress.model = path
        _ = update(&state, .modelInspected(ModelInspection(try LoadedModel.load(CompressTests.base), path: path)))
        state.compress.output = TextField("variants/tiny-q4_0")
        state.compress.outputEdited = true
        _ = update(&state, .key(.enter))
        _ = update(&state, .passProgress("h.1.mlp.c_fc.weight → q4_0", 7.0 / 17))
        try expectFrame("compress", state, metrics)
    }

    @Test func testGoldenFrame_compressPrune() throws {
        let (paused, metrics) = try pausedRun()
        var state = paused
        _ = update(&state, .key(.character("w")))
        // The sample model as the engine read it, the prune pass chosen on the pass row: Wanda 50% predicted.
        let path = "sample-models/shakespeare-char-tiny"
        state.compress.model = path
        _ = update(&state, .modelInspected(ModelInspection(try LoadedModel.load(CompressTests.base), path: path)))
        state.compress.focus = .pass
        _ = update(&state, .key(.right))
        #expect(state.compress.pass == .prune)
        try expectFrame("compress-prune", state, metrics)
    }

    @Test func testGoldenFrame_help() throws {
        let (paused, metrics) = try pausedRun()
        var state = paused
        _ = update(&state, .key(.character("?")))
        #expect(state.modal == .help(scroll: 0))
        try expectFrame("help", state, metrics)
    }

    @Test func testGoldenFrame_openModelDialog() throws {
        let (paused, metrics) = try pausedRun()
        var state = paused
        #expect(update(&state, .key(.character("o"))).contains(.listModels))
        // What RunLauncher.listModels() lists from the repository root after the golden run.
        _ = update(&state, .modelsListed([ModelEntry(path: "sample-models/shakespeare-char-tiny", detail: "model"),
                                          ModelEntry(path: "runs/golden", detail: "run, step 200")]))
        try expectFrame("open-model", state, metrics)
    }

    @Test func testGoldenFrame_newRunDialog() throws {
        let (paused, metrics) = try pausedRun()
        var state = paused
        let effects = update(&state, .key(.character("r")))
        guard case .checkNewRun(let request)? = effects.first(where: { if case .checkNewRun = $0 { true } else { false } }) else {
            Issue.record("the dialog asked for no check: \(effects)")
            return
        }
        // The host's check, as the workbench run from the repository root answers it.
        var resolved = request
        resolved.dataset = Repository.path(request.dataset)
        let check = NewRunCheck(try RunLauncher(baseConfig: try GoldenRun.config())
            .estimate(resolved, vocabulary: RunLauncher.vocabularySize(ofFile:)))
        guard case .valid = check else {
            Issue.record("the default new run is not valid: \(check)")
            return
        }
        _ = update(&state, .newRunChecked(check))
        try expectFrame("new-run", state, metrics)
    }

    @Test func testGoldenFrame_runStepsAndQuitDialogs() throws {
        let (paused, metrics) = try pausedRun()
        var steps = paused
        _ = update(&steps, .key(.character("n")))
        try expectFrame("run-steps", steps, metrics)
        var quit = paused
        _ = update(&quit, .key(.character("q")))
        #expect(quit.modal == .confirmQuit)
        try expectFrame("confirm-quit", quit, metrics)
    }

    @Test func testGoldenFrame_tooSmall() throws {
        let snapshot = try GoldenRun.snapshot(steps: Self.pausedStep)
        let state = GoldenRun.state(snapshot, width: AppState.minimumSize.width - 1, height: AppState.minimumSize.height)
        #expect(state.isTooSmall)
        try expectFrame("too-small", state, GoldenRun.metrics(snapshot))
    }

    /// The golden files are frames worth having: none is blank, each is 80 wide
    /// (79 for the too-small screen) and 24 high, and no two are the same.
    @Test func testGoldenFiles_areDistinctFullFrames() throws {
        let directory = Repository.path("Tests/WhittleUITests/Golden")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".txt") }.sorted()
        #expect(names.count == 16, "\(names)")
        var seen: [String: String] = [:]
        for name in names {
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
            let width = name == "too-small.txt" ? 79 : 80
            #expect(lines.count == 24 && lines.allSatisfy { $0.count == width }, "\(name)")
            #expect(lines.contains { !$0.allSatisfy { $0 == " " } }, "\(name) is blank")
            #expect(seen[text] == nil, "\(name) repeats \(seen[text] ?? "")")
            seen[text] = name
        }
    }
}
