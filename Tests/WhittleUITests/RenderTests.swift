// Render snapshots of the whole UI: the Train screen at 80x24 and 160x48 carries every pane's
// labels and the run's numbers, ASCII mode emits only 7-bit characters, overlays and the
// too-small screen show what they should.

import Testing

@testable import WhittleUI

@Suite struct RenderTests {
    static func demoSnapshot() -> TrainingMetricsSnapshot {
        var run = DemoRun(totalSteps: 2000)
        run.advance(steps: 300)
        run.apply(.learningRate, .real(5e-4))
        run.advance(steps: 300)
        return run.snapshot
    }

    static func state(width: Int, height: Int, ascii: Bool = false) -> AppState {
        var state = AppState(width: width, height: height, useASCII: ascii)
        state.runState = .running
        return state
    }

    @Test func testRender_trainScreenAt80x24HasEveryPane() {
        let screen = render(Self.state(width: 80, height: 24), Self.demoSnapshot(), .builtinDefault)
        #expect(screen.width == 80 && screen.height == 24)
        let text = screen.text
        for label in [
            "whittle", "train", "step 600/2,000", "ETA", "loss", "lr", "grad norm", "tokens/s",
            "hyperparameters", "learning rate", "schedule", "weight decay", "beta1", "beta2", "grad clip",
            "batch size", "1-7/18", "memory", "weights", "RSS", "peak", "running",
            "help", "q quit", "per worker (2)", "ZeRO 1:",
        ] {
            #expect(text.contains(label), "80x24 lacks '\(label)'")
        }
        #expect(text.contains("┊"), "the learning-rate change is marked on the charts")
        #expect(text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) }, "braille plots")
    }

    @Test func testRender_trainScreenAt160x48ShowsMore() {
        let screen = render(Self.state(width: 160, height: 48), Self.demoSnapshot(), .builtinDefault)
        let text = screen.text
        for label in [
            "learning rate", "elapsed", "tokens", "● train", "● val", "activations", "workspace",
            "ledger total", "tok/s", "Space", "optimizer", "momentum", "dropout", "workers", "BLAS threads",
            "checkpointing", "early stop", "adamw", "per worker (2)", "ZeRO: one worker holds",
            "stage 1 optimizer/N", "stage 2 + gradients/N", "stage 3 + weights/N",
        ] {
            #expect(text.contains(label), "160x48 lacks '\(label)'")
        }
        #expect(screen.lines.allSatisfy { $0.count == 160 })
    }

    /// A 16-bit run: flushed-gradient counts per step, and for fp16 the loss scale with skipped steps.
    static func halfPrecisionSnapshot(scaled: Bool) -> TrainingMetricsSnapshot {
        var snapshot = demoSnapshot()
        for (index, point) in snapshot.gradientNorm.enumerated() {
            snapshot.flushedGradients.append(MetricPoint(step: point.step, seconds: point.seconds, value: Double(index % 7 * 40)))
            if scaled {
                snapshot.lossScale.append(MetricPoint(step: point.step, seconds: point.seconds, value: index < 300 ? 65536 : 32768))
            }
        }
        snapshot.skippedSteps = scaled ? 1 : 0
        return snapshot
    }

    @Test(arguments: [(80, 24), (120, 40), (160, 48)], [false, true])
    func testRender_halfPrecisionRunShowsFlushedGradientsAndScale(size: (Int, Int), scaled: Bool) {
        let screen = render(Self.state(width: size.0, height: size.1), Self.halfPrecisionSnapshot(scaled: scaled), .builtinDefault)
        let text = screen.text
        #expect(text.contains("flushed"), "\(size) lacks the flushed-gradient chart")
        #expect(text.contains("grad norm"))
        if scaled && size.0 >= 120 {
            #expect(text.contains("32.8k"), "\(size) lacks the latest loss scale")
        }
        if scaled && size.1 >= 40 { #expect(text.contains("scale, 1 skipped")) }
        #expect(screen.lines.allSatisfy { $0.count == size.0 })
        #expect(!render(Self.state(width: size.0, height: size.1), Self.demoSnapshot(), .builtinDefault).text.contains("flushed"))
    }

    @Test func testRender_asciiModeEmitsOnlySevenBitCharacters() {
        var state = Self.state(width: 100, height: 30, ascii: true)
        state.modal = .help(scroll: 0)
        let text = render(state, Self.demoSnapshot(), .monochrome).text
        #expect(text.utf8.allSatisfy { $0 < 0x80 })
        #expect(text.contains("help"))
    }

    @Test func testRender_tooSmallScreenSaysWhatItNeeds() {
        let screen = render(AppState(width: 70, height: 20), .empty, .builtinDefault)
        #expect(screen.text.contains("needs 80×24"))
        #expect(screen.text.contains("have 70×20"))
        #expect(screen.text.contains("q to quit"))
        let ascii = render(AppState(width: 79, height: 30, useASCII: true), .empty, .builtinDefault)
        #expect(ascii.text.contains("needs 80x24") && ascii.text.contains("have 79x30"))
    }

    @Test func testRender_editingShowsFieldAndValidationError() {
        var state = Self.state(width: 80, height: 24)
        state.focus = .hyperparameters
        state.editing = TextField("abc")
        state.validationError = "learning rate must be a number > 0, e.g. 3e-4"
        let text = render(state, .empty, .builtinDefault).text
        #expect(text.contains("abc"))
        #expect(text.contains("learning rate must be"))
        #expect(text.contains("Enter apply"))
    }

    @Test func testRender_pendingValueIsMarked() {
        var state = Self.state(width: 80, height: 24)
        state.hyperparameters[.beta1] = .real(0.8)
        let line = render(state, Self.demoSnapshot(), .builtinDefault).lines.first { $0.contains("beta1") } ?? ""
        #expect(line.contains("0.8 *"))
    }

    @Test func testRender_dialogsAndGenerateScreen() {
        var state = Self.state(width: 80, height: 24)
        state.modal = .confirmQuit
        #expect(render(state, .empty, .builtinDefault).text.contains("Save a checkpoint and quit?"))
        state.modal = .runSteps(TextField("100"), error: nil)
        #expect(render(state, .empty, .builtinDefault).text.contains("run N steps"))
        state.modal = nil
        state.screen = .generate
        #expect(render(state, .empty, .builtinDefault).text.contains("generate"))
    }

    @Test func testRender_emptySnapshotBeforeAnyRun() {
        let text = render(AppState(), .empty, .builtinDefault).text
        #expect(text.contains("no data yet") && text.contains("no ledger yet") && text.contains("idle"))
    }

    @Test func testRender_themeColoursReachCells() {
        let screen = render(Self.state(width: 80, height: 24), Self.demoSnapshot(), .builtinDefault)
        let colours = Set(screen.cells.compactMap(\.style.foreground))
        #expect(colours.contains(Theme.builtinDefault.color(.lossTrain)!))
        #expect(colours.contains(Theme.builtinDefault.color(.memoryOptimizer)!))
        let mono = render(Self.state(width: 80, height: 24), Self.demoSnapshot(), .monochrome)
        #expect(mono.cells.allSatisfy { $0.style.foreground == nil && $0.style.background == nil })
    }
}
