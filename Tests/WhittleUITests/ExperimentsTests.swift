// The Experiments screen without a terminal or child processes: the form plans with SweepPlan and
// reports invalid settings inline; Enter queues the runs (asking the live run to pause); a fake
// launcher writes each child's log.jsonl and summary.json, the ExperimentSession's snapshots show
// progress and curves, a failing child becomes a failed row, export writes sweep.md/csv/json; the
// screen renders at 80×24 and 160×48; the whole flow through the WorkbenchController.

import Foundation
import Synchronization
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@testable import WhittleUI

/// Pretends to be `whittle train`: writes a log with validation estimates and a summary; runs whose
/// arguments contain `failWith` exit 1; the first run waits for `release` after its first lines.
final class FakeExperimentLauncher: ExperimentLauncher {
    let failWith: String?
    let gate = Gate()
    let calls = Mutex<[[String]]>([])

    init(failWith: String? = nil, gated: Bool = false) {
        self.failWith = failWith
        if !gated { gate.open() }
    }

    func release() { gate.open() }

    func run(arguments: [String], logPath: String, cancelled: @escaping @Sendable () -> Bool) -> Int32 {
        let first = calls.withLock { calls in
            calls.append(arguments)
            return calls.count == 1
        }
        let out = arguments[arguments.firstIndex(of: "--out")! + 1]
        try? FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        if let failWith, arguments.contains(failWith) {
            try? "error: optimizer diverged\n".write(toFile: logPath, atomically: true, encoding: .utf8)
            return 1
        }
        let seed = Double(calls.withLock { $0.count })
        func record(_ step: Int) -> String {
            let estimate = LossEstimate(train: Float(3 - Double(step) / 10), validation: Float(3.2 - Double(step) / 10 - seed / 100))
            let r = StepRecord(step: step, loss: 3, learningRate: 1e-3, gradientNorm: 1, milliseconds: 100, tokens: 512,
                               evaluation: estimate, warning: nil)
            return String(decoding: try! JSONEncoder().encode(r), as: UTF8.self) + "\n"
        }
        FileManager.default.createFile(atPath: out + "/" + TrainingRun.logName, contents: Data((record(1) + record(2)).utf8))
        if first {
            guard gate.wait(unless: cancelled) else { return 143 }
        }
        let handle = FileHandle(forWritingAtPath: out + "/" + TrainingRun.logName)!
        handle.seekToEndOfFile()
        handle.write(Data(record(10).utf8))
        try? handle.close()
        let summary = RunSummary(
            steps: 10, tokensPerStep: 512, medianMilliseconds: 100, tokensPerSecond: 5120 + seed, trainingSeconds: 1,
            wallSeconds: 1, lastEstimate: nil,
            validation: EvaluationResult(loss: 2.5 - seed / 100, standardError: 0.01, perplexity: 12, perplexityLow: 11,
                                         perplexityHigh: 13, accuracy: 0.3, tokens: 1000, windows: 10, seconds: 0.1),
            ledger: TrainingSession.MemoryLedger(weights: 1000, gradients: 1000, optimizer: 2000, activations: 500,
                                                 workspace: 100, residentBytes: 9000, peakResidentBytes: 10_000))
        try! JSONEncoder().encode(summary).write(to: URL(fileURLWithPath: out + "/" + RunSummary.fileName))
        return 0
    }
}

@Suite struct ExperimentsTests {
    static func config() -> TrainingConfig { TinyTraining.shape() }

    static func state(width: Int = 100, height: Int = 30) -> AppState {
        var state = AppState(width: width, height: height)
        _ = update(&state, .runConfigChanged(config(), vocabularySize: 40))
        return state
    }

    func type(_ text: String, into state: inout AppState) {
        for c in text { _ = update(&state, .key(.character(c))) }
    }

    func clear(_ state: inout AppState) {
        _ = update(&state, .key(.end))
        for _ in 0..<80 { _ = update(&state, .key(.backspace)) }
    }

    @Test func testExperiments_eOpensTheFormAndEnterQueuesEveryCombination() {
        var state = Self.state()
        state.runState = .running
        #expect(update(&state, .key(.character("e"))) == [])
        #expect(state.screen == .experiments && state.keyContext == .experiments)
        let effects = update(&state, .key(.enter))
        guard effects.count == 2, effects[0] == .pause, case .startExperiments(let plan) = effects[1] else {
            Issue.record("expected pause + start, got \(effects)")
            return
        }
        #expect(state.runState == .running, "the pause is asked for; the engine reports it")
        #expect(plan.runs.count == 6 && plan.variedKeys == ["optimizer", "precision"])
        #expect(plan.runs.allSatisfy { $0.config.maxIterations == 100 && $0.config.evalInterval == 10 })
        #expect(plan.runs.map(\.name).first == "optimizer-adamw_precision-fp32")
        #expect(state.experiments.runs.count == 6 && state.experiments.isRunning)
        #expect(state.experiments.runs[1].settings == ["optimizer": "adamw", "precision": "bf16"])
        #expect(state.experiments.focus == .runs)
        #expect(update(&state, .key(.enter)) == [], "one queue at a time")
        #expect(update(&state, .key(.character("c"))) == [.cancelExperiments])
        #expect(update(&state, .key(.character("q"))) == [] && state.screen == .train)
    }

    @Test func testExperiments_formErrorsAreShownInline() {
        var state = Self.state()
        _ = update(&state, .key(.character("e")))
        clear(&state)
        type("optimiser=adamw,lion", into: &state)
        #expect(update(&state, .key(.enter)) == [])
        #expect(state.experiments.error?.contains("optimiser") == true)
        #expect(state.experiments.error?.contains("optimizer") == true, "suggests the right key")
        clear(&state)
        type("workers=1,0", into: &state)
        _ = update(&state, .key(.enter))
        #expect(state.experiments.error?.contains("workers") == true)
        clear(&state)
        type("learning_rate=1e-3,3e-3", into: &state)
        for _ in 0..<3 { _ = update(&state, .key(.tab)) }
        #expect(state.experiments.focus == .maxIterations)
        clear(&state)
        type("0", into: &state)
        _ = update(&state, .key(.enter))
        #expect(state.experiments.error?.contains("max_iters") == true)
        var noRun = AppState()
        _ = update(&noRun, .key(.character("e")))
        _ = update(&noRun, .key(.enter))
        #expect(noRun.experiments.error?.contains("load a run first") == true)
        #expect(update(&noRun, .key(.function(2))) == [] && noRun.message?.contains("nothing to export") == true)
    }

    @Test func testExperimentRunner_fakeLauncherProgressResultsFailureAndExport() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-exp")
        let directory = scratch.path("queue")
        var state = Self.state()
        _ = update(&state, .key(.character("e")))
        for _ in 0..<4 { _ = update(&state, .key(.tab)) }
        type("2.9", into: &state)
        guard case .startExperiments(let plan) = update(&state, .key(.enter)).last else {
            Issue.record("no plan")
            return
        }
        #expect(plan.targetLoss == 2.9)
        let launcher = FakeExperimentLauncher(failWith: "optimizer=sgd", gated: true)
        let runner = ExperimentSession(plan: plan, directory: directory, launcher: launcher)
        defer { runner.stop() }
        var polled = try waitUntil("the first run's first two estimates") {
            let polled = runner.snapshot()
            return polled.runs[0].validationLoss.count >= 2 ? polled : nil
        }
        #expect(FileManager.default.fileExists(atPath: directory + "/base.toml"))
        #expect(polled.state == .running && polled.runs[0].status == .running(step: 2, total: 100))
        #expect(polled.progress == JobProgress(completed: 0, total: 6))
        #expect(polled.runs[0].validationLoss.map(\.step) == [1, 2])
        #expect(polled.runs[1].status == .queued)
        _ = update(&state, .experimentsProgress(polled.runs, running: true))
        let live = render(state, .empty, .builtinDefault).text
        #expect(live.contains("2/100") && live.contains("queued"))

        launcher.release()
        #expect(runner.waitUntilDone(timeoutSeconds: Deadline.generous))
        polled = runner.snapshot()
        #expect(polled.state == .finished && polled.progress.fraction == 1)
        let ended = runner.takeEvents().filter { if case .runEnded = $0 { true } else { false } }
        #expect(ended.count == 6, "one event per run")
        let calls = launcher.calls.withLock { $0 }
        #expect(calls.count == 6)
        #expect(calls[0].starts(with: ["train", "--config", directory + "/base.toml", "--out"]))
        #expect(calls[0].contains("optimizer=adamw") && calls[0].contains("max_iters=100"))
        #expect(polled.runs[0].validationLoss.count == 3 && polled.runs[0].status == .finished)
        let first = try #require(polled.runs[0].result)
        #expect(first.validationLoss == 2.5 - 0.01 && first.ledgerBytes == 4600 && first.peakResidentBytes == 10_000)
        #expect(abs((first.secondsToTarget ?? 0) - 0.3) < 1e-9, "the third record's estimate is the first ≤ 2.9")
        let failed = polled.runs.filter { if case .failed = $0.status { true } else { false } }
        #expect(failed.count == 2 && failed.allSatisfy { $0.settings["optimizer"] == "sgd" })
        #expect(failed.first?.status == .failed("error: optimizer diverged"))

        _ = update(&state, .experimentsProgress(polled.runs, running: false))
        #expect(!state.experiments.isRunning && state.message?.contains("4 finished, 2 failed") == true)
        #expect(update(&state, .key(.character("x"))) == [.exportExperiments])
        runner.send(.export)
        let events = try waitUntil("the export's event") { () -> [ExperimentSession.Event]? in
            let events = runner.takeEvents()
            return events.isEmpty ? nil : events
        }
        #expect(events == [.exported(path: directory + "/sweep.md")])
        let markdown = try String(contentsOfFile: directory + "/sweep.md", encoding: .utf8)
        #expect(markdown.contains("| adamw | fp32 |") && markdown.contains("failed: error: optimizer diverged"))
        let csv = try String(contentsOfFile: directory + "/sweep.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 7)
        let json = try JSONDecoder().decode([SweepResult].self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/sweep.json")))
        #expect(json.count == 6)

        for (width, height) in [(80, 24), (160, 48)] {
            state.terminalWidth = width
            state.terminalHeight = height
            let screen = render(state, .empty, .builtinDefault)
            #expect(screen.lines.allSatisfy { $0.count == width })
            let text = screen.text
            for label in ["experiments", "vary 1", "max_iters", "target loss", "validation loss by step", "val loss",
                          "tok/s", "done", "failed", "6/6 runs done"] {
                #expect(text.contains(label), "\(width)x\(height) lacks '\(label)'")
            }
            #expect(text.contains("2.4900"), "\(width)x\(height) shows the first run's val loss")
            #expect(text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) }, "overlaid curves")
        }
    }

    @Test func testExperimentRunner_cancelStopsTheChildAndSkipsTheQueue() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-exp")
        let directory = scratch.path("queue")
        var state = Self.state()
        _ = update(&state, .key(.character("e")))
        guard case .startExperiments(let plan) = update(&state, .key(.enter)).last else {
            Issue.record("Enter on the default form planned no queue")
            return
        }
        let launcher = FakeExperimentLauncher(gated: true)
        let runner = ExperimentSession(plan: plan, directory: directory, launcher: launcher)
        defer { runner.stop() }
        runner.cancel()
        #expect(runner.waitUntilDone(timeoutSeconds: Deadline.generous))
        let polled = runner.snapshot()
        #expect(polled.state == .cancelled)
        #expect(polled.runs.allSatisfy { $0.status == .failed("cancelled") })
        #expect(launcher.calls.withLock { $0.count } <= 1)
    }
}
