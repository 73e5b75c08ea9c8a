// The Compare screen as pure update and render: the empty state, measuring and its progress, a
// report (a real `whittle compare --json`) in the table with its verdicts in words, sorting (the
// plot's selection follows the table's), the Pareto front, a failed evaluation (its error shown,
// the last numbers kept), a variant directory deleted from outside, side-by-side generation, and
// the screen in ASCII at 80×24.

import Foundation
import Testing
import WhittleEngine

@testable import WhittleUI

@Suite struct CompareTests {
    static let theme = Theme.builtinDefault

    static func measured(width: Int = 200, height: Int = 60, ascii: Bool = false) -> AppState {
        var state = AppState(width: width, height: height, useASCII: ascii)
        state.screen = .compare
        state.compare.models = CompareFixture.report.models.map(\.model)
        _ = update(&state, .comparisonFinished(CompareFixture.report))
        return state
    }

    func frame(_ state: AppState) -> Screen { render(state, TrainingMetricsSnapshot(), Self.theme) }

    @Test func testCompare_emptyStateSaysHowToMakeVariants() {
        var state = AppState()
        _ = update(&state, .key(.character("v")))
        #expect(state.screen == .compare)
        let text = frame(state).text
        #expect(text.contains("No variants yet."))
        #expect(text.contains("Compress screen (w)"))
        #expect(update(&state, .key(.enter)).isEmpty, "nothing to measure")
        #expect(state.message?.contains("add a base") == true)
    }

    @Test func testCompare_addingTwoModelsMeasuresThemPausingTraining() {
        var state = AppState()
        state.screen = .compare
        state.runState = .running
        #expect(update(&state, .key(.character("a"))) == [.listLibrary])
        _ = update(&state, .modelsListed([ModelEntry(path: "m/base", detail: "model"), ModelEntry(path: "v/q4", detail: "variant")]))
        #expect(update(&state, .key(.enter)).isEmpty)
        #expect(state.compare.models == ["m/base"])
        _ = update(&state, .key(.character("a")))
        _ = update(&state, .modelsListed([ModelEntry(path: "m/base", detail: "model"), ModelEntry(path: "v/q4", detail: "variant")]))
        _ = update(&state, .key(.down))
        let effects = update(&state, .key(.enter))
        #expect(effects == [.pause, .compare(ComparisonRequest(models: ["m/base", "v/q4"], speed: .init(repetitions: 3)))])
        _ = update(&state, .comparisonProgress("scoring windows 3/10", 0.3))
        #expect(frame(state).text.contains("measuring: scoring windows 3/10"))
    }

    @Test func testCompare_tableShowsEveryModelWithVerdictsInWords() {
        let state = Self.measured()
        let text = frame(state).text
        let report = CompareFixture.report
        for row in report.models {
            #expect(text.contains(CompareView.shortName(row.model)))
            #expect(text.contains(String(format: "%.4f", row.evaluation.loss)))
            #expect(text.contains(formatBytes(row.fileBytes)))
        }
        for row in report.models.dropFirst() {
            #expect(text.contains(String(format: "%.5f", row.comparison!.divergence.mean)))
            #expect(text.contains(String(format: "%+.4f", row.comparison!.lossChange)))
            #expect(text.contains(CompareView.verdict(row, report, ascii: false)))
        }
        #expect(text.contains("smaller"))
        #expect(text.contains("faster") || text.contains("not faster"))
        #expect(text.contains("worse by") || text.contains("no worse"))
    }

    @Test func testCompare_sortsByDecodeTimeAndTheSelectionFollowsInThePlot() throws {
        var state = Self.measured()
        while state.compare.sortColumn != .decode { _ = update(&state, .key(.right)) }
        let report = CompareFixture.report
        let decode = state.compare.order.map { report.models[$0].speed!.decodeMillisecondsPerToken.mean }
        #expect(decode == decode.sorted())
        _ = update(&state, .key(.character("r")))
        #expect(state.compare.order.map { report.models[$0].speed!.decodeMillisecondsPerToken.mean } == decode.sorted().reversed())
        // Down selects the next row in display order; the plot highlights the same model.
        state.compare.selected = state.compare.order[0]
        _ = update(&state, .key(.down))
        #expect(state.compare.selected == state.compare.order[1])
        let screen = frame(state)
        let name = try #require(report.models[state.compare.selected].model.split(separator: "/").last)
        let plotRows = screen.lines.enumerated().filter { $0.element.contains("Pareto front") }.map(\.offset)
        let start = try #require(plotRows.first)
        let highlighted = (start..<screen.height).contains { y in
            guard let x = screen.line(y).range(of: String(name))?.lowerBound else { return false }
            let column = screen.line(y).distance(from: screen.line(y).startIndex, to: x)
            return screen[column, y].style.reverse
        }
        #expect(highlighted, "the selected model's label is highlighted in the plot")
    }

    @Test func testCompare_paretoFrontKeepsTheUndominatedPoints() {
        // (bytes, loss): the base is big and good, q8 smaller and almost as good, q4 smallest, a bad one dominated.
        let points: [(x: Double, y: Double)] = [(100, 1.0), (30, 1.01), (18, 1.05), (40, 1.2)]
        #expect(ScatterPlot.paretoFront(points) == [2, 1, 0])
        #expect(ScatterPlot.paretoFront([(1, 1)]) == [0])
    }

    @Test func testCompare_plotAgainstLatencyAndKLD() {
        var state = Self.measured()
        _ = update(&state, .key(.character("p")))
        _ = update(&state, .key(.character("y")))
        let text = frame(state).text
        #expect(text.contains("KLD against decode ms/token"))
        #expect(text.contains(" ms"))
    }

    @Test func testCompare_aFailedEvaluationShowsItsErrorAndKeepsTheNumbers() {
        var state = Self.measured()
        _ = update(&state, .key(.character("d")))
        #expect(state.keyContext == .compareField)
        for c in "missing.txt" { _ = update(&state, .key(.character(c))) }
        let effects = update(&state, .key(.enter))
        #expect(effects.contains(.compare(ComparisonRequest(models: state.compare.models, data: "missing.txt", speed: .init(repetitions: 3)))))
        _ = update(&state, .comparisonFailed("cannot read missing.txt: no such file"))
        let text = frame(state).text
        #expect(text.contains("failed: cannot read missing.txt"))
        #expect(state.compare.report == CompareFixture.report, "the last numbers stay")
        #expect(text.contains(String(format: "%.4f", CompareFixture.report.models[0].evaluation.loss)))
    }

    @Test func testCompare_aReportForOtherModelsIsIgnored() {
        var state = Self.measured()
        state.compare.models.removeLast()
        state.compare.report = nil
        _ = update(&state, .comparisonFinished(CompareFixture.report))
        #expect(state.compare.report == nil, "a superseded request's report does not replace the pending one")
    }

    @Test func testCompare_aVariantDeletedFromOutsideIsMarked() {
        var state = Self.measured()
        let deleted = CompareFixture.report.models[2].model
        _ = update(&state, .modelsMissing([deleted]))
        #expect(state.message == "\(deleted) was deleted from outside")
        state.compare.selected = 2
        let text = frame(state).text
        #expect(text.contains("(deleted from disk)"))
        // Side by side runs only the models still on disk.
        _ = update(&state, .key(.character("g")))
        let effects = update(&state, .key(.enter))
        #expect(effects == [.generateSideBySide(models: state.compare.models.filter { $0 != deleted }, prompt: "ROMEO:",
                                                count: 160, seed: 1337)])
        // Removing it measures the rest again.
        #expect(update(&state, .key(.delete)).contains { if case .compare = $0 { true } else { false } })
        #expect(!state.compare.models.contains(deleted))
    }

    @Test func testCompare_sideBySideShowsEachModelsTextAndTokensPerSecond() {
        var state = Self.measured()
        _ = update(&state, .key(.character("g")))
        _ = update(&state, .key(.enter))
        _ = update(&state, .sideBySideOutput(index: 0, "\nWhat say you"))
        _ = update(&state, .sideBySideFinished(index: 0, GenerationSummary(promptTokens: 6, generatedTokens: 160,
                                                                          prefillTokensPerSecond: 5000, decodeMillisecondsPerToken: 0.5)))
        _ = update(&state, .sideBySideFailed(index: 1, "boom"))
        let text = frame(state).text
        #expect(text.contains("What say you"))
        #expect(text.contains("2000 tok/s (0.500 ms/token)"))
        #expect(text.contains("failed: boom"))
        #expect(text.contains("generating..."))
    }

    @Test func testCompare_exportAsksTheHostWithTheReport() {
        var state = Self.measured()
        #expect(update(&state, .key(.character("x"))) == [.exportComparison(CompareFixture.report)])
        var empty = AppState()
        empty.screen = .compare
        #expect(update(&empty, .key(.function(2))).isEmpty)
    }

    @Test func testCompare_fitsEightyByTwentyFourInASCII() {
        let state = Self.measured(width: 80, height: 24, ascii: true)
        let screen = frame(state)
        let isASCII = screen.text.unicodeScalars.allSatisfy { $0.isASCII }
        #expect(isASCII, "\(screen.text)")
        #expect(screen.text.contains("d loss"))
        #expect(screen.text.contains("Pareto front"))
    }

    @Test func testCompare_perTensorErrorsOfTheSelectedVariantWorstFirst() {
        var state = Self.measured()
        #expect(update(&state, .key(.character("t"))).isEmpty, "the base has nothing to measure against")
        state.compare.selected = 2
        let rows = CompareFixture.report.models
        #expect(update(&state, .key(.character("t"))) == [.measureTensorErrors(base: rows[0].model, variant: rows[2].model)])
        #expect(frame(state).text.contains("measuring..."))
        _ = update(&state, .tensorErrorsMeasured(variant: rows[2].model, [
            TensorError(tensor: "h.0.attn.c_attn.weight", format: .q4_0, relativeError: 2.5e-3),
            TensorError(tensor: "wte.weight", format: .q8_0, relativeError: 4.0e-5),
            TensorError(tensor: "h.3.mlp.c_fc.weight", format: .q4_0, relativeError: 6.1e-3),
        ]))
        let lines = frame(state).lines
        let worst = lines.firstIndex { $0.contains("h.3.mlp.c_fc.weight") && $0.contains("6.10e-03") }
        let next = lines.firstIndex { $0.contains("h.0.attn.c_attn.weight") && $0.contains("2.50e-03") }
        let last = lines.firstIndex { $0.contains("wte.weight") && $0.contains("4.00e-05") }
        #expect(worst != nil && next != nil && last != nil && worst! < next! && next! < last!)
        _ = update(&state, .tensorErrorsFailed(variant: "other", "ignored"))
        #expect(state.compare.tensorErrors?.failure == nil)
        _ = update(&state, .key(.character("p")))
        #expect(state.compare.tensorErrors == nil, "p returns to the plot")
    }
}
