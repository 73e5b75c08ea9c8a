// WorkbenchController with a real (tiny) TrainingSession: a scripted key session in-process —
// training starts, Space pauses, the learning rate is edited in the panel and applies, an edit the
// engine refuses shows its message, help opens, a small terminal shows the size screen, q asks and
// quits, and stopping saves a checkpoint.

import Foundation
import Testing
import WhittleEngine
import WhittleTestSupport

@testable import WhittleUI

@Suite(.serialized) struct WorkbenchControllerTests {
    static let timeout = Deadline.generous

    /// The shared tiny run, made endless (no checkpoints, rare estimates) and one layer deep.
    static func tinyConfig(in directory: String) throws -> TrainingConfig {
        var config = try TinyTraining.config(in: directory)
        config.layerCount = 1
        config.maxIterations = 100_000
        config.evalInterval = 50
        config.evalIterations = 1
        config.checkpointInterval = 0
        return config
    }

    /// Syncs the controller with its session until `condition` holds.
    func wait(_ controller: WorkbenchController, _ what: String, until condition: (WorkbenchController) -> Bool) throws {
        try waitUntil(what, timeout: Self.timeout, state: { "\(controller.session.snapshot().state)" }) {
            controller.sync()
            return condition(controller)
        }
    }

    func keys(_ text: String) -> [Action] { text.map { .key(.character($0)) } }

    @Test func testWorkbench_generatesFromACopyOfTheRunningWeights() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-ui-test")
        let config = try Self.tinyConfig(in: scratch.path)
        let session = TrainingSession(origin: .start(config: config, directory: scratch.path + "/run"))
        defer { session.stop(saving: false) }
        let controller = WorkbenchController(session: session, runName: "run", state: AppState(width: 100, height: 30))
        try wait(controller, "a few steps") { $0.metrics.metrics.step >= 3 }
        controller.handle(.key(.character("g")))
        for _ in 0..<6 { controller.handle(.key(.backspace)) }
        for c in "the " { controller.handle(.key(.character(c))) }
        controller.handle(.key(.tab))
        controller.handle(.key(.tab))
        controller.handle(.key(.tab))
        controller.handle(.key(.tab))
        for _ in 0..<3 { controller.handle(.key(.backspace)) }
        for c in "40" { controller.handle(.key(.character(c))) }
        controller.handle(.key(.enter))
        #expect(controller.state.generate.status == .copying)
        #expect(controller.waitForGeneration(timeoutSeconds: Self.timeout))
        guard case .finished(let step, let summary) = controller.state.generate.status else {
            Issue.record("generation did not finish: \(controller.state.generate.status)")
            return
        }
        #expect(step >= 3, "weights of a step while training ran")
        #expect(summary.generatedTokens == 40 && summary.promptTokens == 4)
        #expect(summary.prefillTokensPerSecond > 0 && summary.decodeMillisecondsPerToken > 0)
        #expect(controller.state.generate.output.count == 44 && controller.state.generate.output.hasPrefix("the "))
        #expect(controller.state.runState == .running, "training keeps running")
        let screen = controller.frame(theme: .builtinDefault).text
        #expect(screen.contains("ms/token"))
        // A character the tokenizer does not know is reported, not crashed on.
        controller.handle(.key(.backTab))
        controller.handle(.key(.backTab))
        controller.handle(.key(.backTab))
        controller.handle(.key(.backTab))
        controller.handle(.key(.character("Z")))
        controller.handle(.key(.enter))
        #expect(controller.waitForGeneration(timeoutSeconds: Self.timeout))
        guard case .failed(let message) = controller.state.generate.status else {
            Issue.record("expected a failure for an unknown character")
            return
        }
        #expect(message.contains("Z") || message.lowercased().contains("character"))
    }

    @Test func testWorkbench_newRunDialogReplacesTheSessionAfterSaving() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-ui-test")
        let config = try Self.tinyConfig(in: scratch.path)
        let session = TrainingSession(origin: .start(config: config, directory: scratch.path + "/run"))
        let launcher = RunLauncher(baseConfig: config, roots: [scratch.path + "/runs"], runsDirectory: scratch.path + "/runs")
        let controller = WorkbenchController(session: session, runName: "run", state: AppState(width: 100, height: 30),
                                             launcher: launcher)
        defer {
            controller.session.stop(saving: false)
            controller.stopJobs()
        }
        try wait(controller, "a few steps") { $0.metrics.metrics.step >= 3 }
        controller.handle(.key(.character("r")))
        let edits: [(Int, String)] = [(2, "1"), (2, "2"), (4, "16"), (3, "16"), (40, scratch.path + "/corpus.txt"), (5, "7")]
        for (index, (deletions, text)) in edits.enumerated() {
            if index > 0 { controller.handle(.key(.tab)) }
            for _ in 0..<deletions { controller.handle(.key(.backspace)) }
            for c in text { controller.handle(.key(.character(c))) }
        }
        try wait(controller, "the library's check") {
            if case .newRun(let form) = $0.state.modal, case .valid? = form.check { true } else { false }
        }
        guard case .newRun(let form) = controller.state.modal, case .valid(let parameters, _, _)? = form.check else {
            Issue.record("the form is not valid: \(String(describing: controller.state.modal))")
            return
        }
        #expect(parameters > 0)
        controller.handle(.key(.enter))
        #expect(controller.state.modal == .replaceRun(.start(NewRunRequest(
            layers: 1, heads: 2, width: 16, context: 16, dataset: scratch.path + "/corpus.txt", seed: 7))))
        controller.handle(.key(.character("y")))
        try wait(controller, "a new session") { $0.session !== session }
        #expect(session.hasEnded, "the old session was stopped first")
        #expect(session.snapshot().lastCheckpoint != nil, "and saved first")
        try wait(controller, "the new run trains") { $0.metrics.metrics.step >= 2 && $0.state.runState == .running }
        #expect(controller.metrics.metrics.runName.hasPrefix("1x16-"))
        #expect(controller.session.snapshot().config?.seed == 7)
        // The open dialog lists the new run once it has a checkpoint.
        controller.handle(.key(.character("c")))
        try wait(controller, "a checkpoint") { $0.session.snapshot().lastCheckpoint != nil }
        controller.handle(.key(.character("o")))
        try wait(controller, "the listing") {
            if case .openModel(let picker) = $0.state.modal { !picker.entries.isEmpty } else { false }
        }
        guard case .openModel(let picker) = controller.state.modal else {
            Issue.record("no picker")
            return
        }
        #expect(picker.entries.count == 1 && picker.entries[0].detail.hasPrefix("run, step"))
    }

    @Test func testWorkbench_scriptedSession() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-ui-test")
        let config = try Self.tinyConfig(in: scratch.path)
        let session = TrainingSession(origin: .start(config: config, directory: scratch.path + "/run"))
        defer { session.stop(saving: false) }
        let controller = WorkbenchController(session: session, runName: "run", state: AppState(width: 100, height: 30))
        let first = controller.frame(theme: .builtinDefault)
        #expect(first.text.contains("run"), "the first frame draws before the run is loaded")

        try wait(controller, "steps") { $0.metrics.metrics.step >= 3 }
        #expect(controller.state.runState == .running)
        #expect(controller.frame(theme: .builtinDefault).text.contains("running"))

        controller.handle(.key(.character(" ")))
        #expect(controller.state.runState == .running, "Space asks; the state waits for the engine")
        try wait(controller, "paused") { $0.state.runState == .paused }
        #expect(session.snapshot().state == .paused)
        let pausedAt = session.snapshot().step

        // Edit the learning rate in the panel: Tab to it, type, Enter.
        controller.handle(.key(.tab))
        for action in keys("0.0005") { controller.handle(action) }
        controller.handle(.key(.enter))
        try wait(controller, "change applied") { $0.session.snapshot().changes.count == 1 }
        #expect(session.snapshot().config?.learningRate == 5e-4)
        #expect(session.snapshot().step == pausedAt, "editing does not step")
        controller.sync()
        #expect(controller.state.message?.contains("learning_rate 0.001 → 0.0005") == true)

        // The batch size changes live too: the engine rebuilds its activation arenas at the next boundary.
        for _ in 0..<6 { controller.handle(.key(.down)) }
        #expect(controller.state.selectedID == .batchSize)
        for action in keys("8") { controller.handle(action) }
        controller.handle(.key(.enter))
        try wait(controller, "batch size applied") { $0.session.snapshot().config?.batchSize == 8 }
        #expect(controller.state.validationError == nil)

        // Resume, then step counts grow again.
        controller.handle(.key(.character(" ")))
        try wait(controller, "resumed") { $0.session.snapshot().step > pausedAt + 2 }
        #expect(controller.metrics.metrics.changes.count == 2)

        controller.handle(.key(.character("?")))
        #expect(controller.frame(theme: .builtinDefault).text.contains("start / pause / resume training"))
        controller.handle(.key(.escape))
        controller.handle(.resize(width: 70, height: 20))
        #expect(controller.frame(theme: .builtinDefault).text.contains("needs 80×24"))
        controller.handle(.resize(width: 100, height: 30))
        #expect(controller.frame(theme: .builtinDefault).text.contains("hyperparameters"))

        controller.handle(.key(.character("q")))
        #expect(controller.state.modal == .confirmQuit)
        #expect(!controller.quitRequested)
        controller.handle(.key(.character("y")))
        #expect(controller.quitRequested)

        #expect(session.stop(saving: true, timeoutSeconds: Self.timeout))
        let final = session.snapshot()
        #expect(final.unsavedSteps == 0)
        #expect(try Checkpoint.newest(in: scratch.path + "/run") == scratch.path + "/run/" + Checkpoint.directoryName(step: final.step))
    }

    @Test func testWorkbench_labSettingsApplyLiveWithTheEnginesNoteAndAMarker() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-ui-test")
        var config = try Self.tinyConfig(in: scratch.path)
        config.layerCount = 2
        let session = TrainingSession(origin: .start(config: config, directory: scratch.path + "/run"))
        defer { session.stop(saving: false) }
        var state = AppState(width: 160, height: 48)
        state.focus = .hyperparameters
        let controller = WorkbenchController(session: session, runName: "run", state: state)
        try wait(controller, "steps") { $0.metrics.metrics.step >= 2 }
        #expect(controller.state.runConfig == session.snapshot().config)
        #expect(controller.state.vocabularySize == session.snapshot().vocabularySize && controller.state.vocabularySize > 0)
        #expect(controller.metrics.metrics.workerMemory?.workers == 1)

        // Optimizer: → cycles AdamW to Lion; the engine's note about the state reaches the status line.
        for _ in 0..<HyperparameterID.allCases.firstIndex(of: .optimizer)! { controller.handle(.key(.down)) }
        controller.handle(.key(.right))
        try wait(controller, "optimizer applied") { $0.session.snapshot().config?.optimizer == .lion }
        try wait(controller, "note shown") { $0.state.message?.contains("fresh state") == true }
        #expect(controller.state.message?.contains("adamw → lion") == true)
        try wait(controller, "marker") { $0.metrics.metrics.changes.contains { $0.summary.hasPrefix("optimizer") } }

        // Checkpointing: the what-if preview while editing predicts the new activation bytes; Enter applies them.
        let before = try #require(session.snapshot().memory)
        for _ in 0..<5 { controller.handle(.key(.down)) }
        #expect(controller.state.selectedID == .checkpointing)
        controller.handle(.key(.enter))
        controller.handle(.key(.up))
        let predicted = try #require(controller.state.memoryWhatIf?.candidate)
        #expect(controller.frame(theme: .builtinDefault).text.contains("memory what-if"))
        controller.handle(.key(.enter))
        try wait(controller, "checkpointing applied") {
            $0.session.snapshot().config?.checkpointing == "true" && $0.session.snapshot().memory?.activations != before.activations
        }
        let after = try #require(session.snapshot().memory)
        #expect(after.activations == predicted.activations && after.optimizer == predicted.optimizer)
        #expect(after.activations < before.activations)
    }

    @Test func testWorkbench_experimentsFlowWithAFakeLauncher() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-ui-test")
        let config = try Self.tinyConfig(in: scratch.path)
        let session = TrainingSession(origin: .start(config: config, directory: scratch.path + "/run"))
        defer { session.stop(saving: false) }
        let launcher = FakeExperimentLauncher(failWith: "optimizer=sgd")
        let controller = WorkbenchController(session: session, runName: "run", state: AppState(width: 160, height: 48),
                                             experimentLauncher: launcher, experimentsRoot: scratch.path + "/exp")
        try wait(controller, "steps") { $0.metrics.metrics.step >= 2 }
        controller.handle(.key(.character("e")))
        #expect(controller.frame(theme: .builtinDefault).text.contains("vary 1"))
        // Replace the second line: vary only the optimizer.
        controller.handle(.key(.tab))
        for _ in 0..<40 { controller.handle(.key(.backspace)) }
        controller.handle(.key(.enter))
        try wait(controller, "paused for the queue") { $0.session.snapshot().state == .paused }
        let runner = try #require(controller.experiments)
        #expect(runner.plan.runs.count == 3)
        #expect(runner.waitUntilDone(timeoutSeconds: Self.timeout))
        try wait(controller, "results in the state") { !$0.state.experiments.isRunning }
        #expect(controller.state.experiments.directory == runner.directory)
        #expect(controller.state.experiments.runs.map(\.status.isDone) == [true, true, true])
        #expect(controller.state.experiments.directory?.hasPrefix(scratch.path + "/exp/experiments-") == true)
        let text = controller.frame(theme: .builtinDefault).text
        #expect(text.contains("optimizer") && text.contains(" lion ") && text.contains("done") && text.contains("failed"))
        controller.handle(.key(.function(2)))
        try wait(controller, "exported") { $0.state.message?.contains("sweep.md") == true }
        #expect(FileManager.default.fileExists(atPath: runner.directory + "/sweep.csv"))
        #expect(FileManager.default.fileExists(atPath: runner.directory + "/sweep.json"))
    }

    @Test func testWorkbench_runLoopEndsOnQuitAndOnSignal() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-ui-test")
        let config = try Self.tinyConfig(in: scratch.path)
        let session = TrainingSession(origin: .start(config: config, directory: scratch.path + "/run"))
        defer { session.stop(saving: false) }
        let controller = WorkbenchController(session: session, runName: "run", state: AppState(width: 100, height: 30),
                                             autoStart: false)
        let terminal = MemoryTerminal(width: 100, height: 30, actions: [.key(.character("?")), .key(.escape), .key(.character("q"))])
        let exit = controller.run(on: terminal, frameMilliseconds: 1, theme: { _ in .builtinDefault }, pendingSignal: { nil })
        #expect(exit == .quit, "no steps taken, so q quits without asking")
        #expect(!terminal.presented.isEmpty)
        var calls = 0
        let signalled = controller.run(on: MemoryTerminal(width: 100, height: 30), frameMilliseconds: 1,
                                       theme: { _ in .builtinDefault }, pendingSignal: {
            calls += 1
            return calls > 3 ? 15 : nil
        })
        #expect(signalled == .signal(15))
    }

    @Test func testWorkbench_failedLoadShowsTheError() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-ui-test")
        var config = try Self.tinyConfig(in: scratch.path)
        config.datasetPath = scratch.path + "/absent.txt"
        let session = TrainingSession(origin: .start(config: config, directory: scratch.path + "/run"))
        defer { session.stop(saving: false) }
        let controller = WorkbenchController(session: session, runName: "run", state: AppState(width: 100, height: 30))
        try wait(controller, "failure") { $0.state.message?.contains("absent.txt") == true }
        guard case .failed(let message) = controller.state.runState else {
            Issue.record("a failed load shows as \(controller.state.runState)")
            return
        }
        #expect(message.contains("absent.txt"))
        let text = controller.frame(theme: .builtinDefault).text
        #expect(text.contains("run (failed)") && text.contains("failed") && !text.contains("paused"))
    }
}
