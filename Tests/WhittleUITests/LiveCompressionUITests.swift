// Prune-now and quantize-now on the Train screen: the forms turn keys into exactly the requests
// they show, nothing opens while a run loads or a request runs, the engine's result clears the
// status and stays in the status bar, and the loss chart marks the step with a label (golden 80×24
// frames of the form and of the marked chart; ASCII and NO_COLOR-safe). A controller with a real tiny
// session carries a prune through the engine and back onto the screen.

import Foundation
import Testing
import WhittleEngine
import WhittleTestSupport

@testable import WhittleUI

@Suite struct LiveCompressionUITests {
    /// A result as the engine reports it, with round figures.
    static let event = CompressionEvent(kind: .prune, step: 100, seconds: 12, settings: "magnitude 50%", lossBefore: 2.1,
                                        lossAfter: 2.4, lossChangeStandardError: 0.01, divergence: 0.3125, agreement: 0.8,
                                        tokens: 4096, sparsity: 0.5, wallSeconds: 0.2)

    func paused() -> AppState {
        var state = AppState(width: 80, height: 24)
        state.runState = .paused
        return state
    }

    @Test func testPruneForm_enterAsksForTheChosenPrune() {
        var state = paused()
        #expect(update(&state, .key(.character("p"))).isEmpty)
        guard case .liveCompress(let form) = state.modal else {
            Issue.record("p did not open the form")
            return
        }
        #expect(form.kind == .prune && state.keyContext == .liveCompress)
        _ = update(&state, .key(.right))   // method: wanda
        _ = update(&state, .key(.tab))
        for _ in 0..<5 { _ = update(&state, .key(.right)) }   // 50% → 90% → 2:4
        let effects = update(&state, .key(.enter))
        let pattern = SparsityPattern(keep: 2, group: 4)
        #expect(effects == [.pruneNow(PruneNowRequest(plan: PruningPlan(method: .wanda, sparsity: 0.5, pattern: pattern)))])
        #expect(state.modal == nil && state.liveCompression.activity == "pruning wanda 2:4...")
        #expect(state.message?.hasPrefix("pruning wanda 2:4") == true)
        // Busy: neither form opens until the engine answers.
        #expect(update(&state, .key(.character("z"))).isEmpty)
        #expect(state.modal == nil && state.message?.hasPrefix("busy") == true)
        _ = update(&state, .compressionFinished(Self.event))
        #expect(state.liveCompression.activity == nil && state.liveCompression.last == Self.event)
        #expect(state.message == Self.event.sentence)
        #expect(state.message?.contains("2.100 → 2.400 (+0.300), KLD 0.3125, 50% zero") == true)
    }

    @Test func testQuantizeForm_typeAndMethodChoicesAndFailures() {
        var state = paused()
        _ = update(&state, .key(.character("z")))
        _ = update(&state, .key(.left))    // q8_0 → int8 (wraps)
        _ = update(&state, .key(.down))
        _ = update(&state, .key(.right))   // rtn → the next method
        let effects = update(&state, .key(.enter))
        let next = RoundingMethod.allCases[1]
        #expect(effects == [.quantizeNow(QuantizeNowRequest(plan: QuantizationPlan(defaultFormat: .int8), method: next))])
        _ = update(&state, .compressionFailed("wte.weight has rows of 16 weights — give it a type that fits"))
        #expect(state.liveCompression.activity == nil && state.message?.hasPrefix("not compressed: wte.weight") == true)
        // The third row publishes a variant too (the controller names the directory).
        _ = update(&state, .key(.character("z")))
        _ = update(&state, .key(.up))      // wraps to the publish row
        _ = update(&state, .key(.right))
        guard case .quantizeNow(let request)? = update(&state, .key(.enter)).first else {
            Issue.record("Enter did not ask for a quantization")
            return
        }
        #expect(request.publish != nil && request.plan.defaultFormat == .q8_0)
        _ = update(&state, .compressionFailed("x"))
        // Esc closes the form without asking anything.
        _ = update(&state, .key(.character("z")))
        #expect(update(&state, .key(.escape)).isEmpty && state.modal == nil)
    }

    @Test func testLiveCompress_notWhileLoadingOrAfterFailure() {
        var state = AppState(width: 80, height: 24)
        state.runState = .loading
        _ = update(&state, .key(.character("p")))
        #expect(state.modal == nil && state.message?.contains("loading") == true)
        state.runState = .failed("boom")
        _ = update(&state, .key(.character("z")))
        #expect(state.modal == nil && state.message?.contains("no live run") == true)
    }

    @Test func testHelp_listsBothKeys() {
        let hints = Keymap.helpSections(ascii: false).flatMap(\.hints)
        #expect(hints.contains { $0.keys == "p" && $0.description.contains("prune the live model") })
        #expect(hints.contains { $0.keys == "z" && $0.description.contains("quantize a copy") })
    }

    /// The engine's events become labelled markers at their step, on the loss chart only, in ASCII too.
    @Test func testLossChart_marksTheStepWithALabel() throws {
        var snapshot = TrainingSession.Snapshot(directory: "run")
        snapshot.history = try (1...40).map { step in
            let line = #"{"step":\#(step),"loss":\#(3 - Double(step) * 0.02),"lr":0.001,"grad_norm":1,"ms":10,"tokens":64}"#
            return try JSONDecoder().decode(StepRecord.self, from: Data(line.utf8))
        }
        snapshot.step = 40
        snapshot.totalSteps = 100
        snapshot.version = 1
        var quantized = Self.event
        quantized.kind = .quantize
        quantized.step = 30
        quantized.settings = "q4_0 rtn"
        quantized.lossAfter = 2.141
        var pruned = Self.event
        pruned.step = 10
        snapshot.compressions = [pruned, quantized]
        var metrics = SessionMetrics(runName: "run")
        let converted = metrics.update(from: snapshot)
        #expect(converted.compressions.map(\.step) == [10, 30])
        #expect(converted.compressions.map(\.label) == ["prune 50%", "q4_0 +0.041"])
        #expect(abs(converted.compressions[1].seconds - 0.3) < 1e-9, "the chart's clock: step time up to the event")
        for ascii in [false, true] {
            var state = paused()
            state.useASCII = ascii
            let screen = render(state, converted, .builtinDefault)
            let layout = TrainLayout(width: 80, height: 24)
            let rows = (layout.lossChart.y..<layout.lossChart.maxY).map { y in
                String((layout.lossChart.x..<layout.lossChart.maxX).map { screen[$0, y].character })
            }
            #expect(rows.contains { $0.contains("prune 50%") } && rows.contains { $0.contains("q4_0 +0.041") }, "\(rows)")
            let marker = ascii ? ":" : "┊"
            #expect(rows.dropFirst(2).filter { $0.contains(marker) }.count >= 3, "a vertical line under each label")
            #expect(screen.text.unicodeScalars.allSatisfy { !ascii || $0.isASCII })
        }
    }
}

extension GoldenFrameTests {
    @Test func testGoldenFrame_pruneNowForm() throws {
        let (paused, metrics) = try pausedRun()
        var state = paused
        _ = update(&state, .compressionFinished(LiveCompressionUITests.event))
        _ = update(&state, .key(.character("p")))
        _ = update(&state, .key(.right))
        try expectFrame("prune-now", state, metrics)
    }

    @Test func testGoldenFrame_trainWithACompressionMarker() throws {
        let (paused, plain) = try pausedRun()
        var state = paused, metrics = plain
        var event = LiveCompressionUITests.event
        event.lossBefore = 1.95
        event.lossAfter = 2.31
        _ = update(&state, .compressionFinished(event))
        metrics.compressions = [CompressionMarker(step: event.step, seconds: 0, label: event.chartLabel)]
        try expectFrame("train-pruned", state, metrics)
    }
}

@Suite(.serialized) struct LiveCompressionControllerTests {
    @Test func testWorkbench_pruneNowReachesTheEngineAndComesBackAsAMarker() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-ui-test")
        let config = try WorkbenchControllerTests.tinyConfig(in: scratch.path)
        let session = TrainingSession(origin: .start(config: config, directory: scratch.path + "/run"))
        defer { session.stop(saving: false) }
        let controller = WorkbenchController(session: session, runName: "run", state: AppState(width: 80, height: 24))
        try waitUntil("a few steps") {
            controller.sync()
            return controller.metrics.metrics.step >= 3 ? true : nil
        }
        controller.handle(.key(.character("p")))
        controller.handle(.key(.enter))
        #expect(controller.state.liveCompression.activity != nil)
        try waitUntil("the prune's result") {
            controller.sync()
            return controller.state.liveCompression.last
        }
        let last = try #require(controller.state.liveCompression.last)
        #expect(last.kind == .prune && last.sparsity == 0.5 && controller.state.liveCompression.activity == nil)
        try waitUntil("the marker") {
            controller.sync().compressions.first
        }
        #expect(controller.state.runState == .running, "training carries on")
        let text = controller.frame(theme: .builtinDefault).text
        #expect(text.contains("prune 50%"))
    }
}
