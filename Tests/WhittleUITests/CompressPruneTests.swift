// The Compress screen's prune pass as pure update and render: the pass row switches the form to the
// prune rows, the engine's prediction (file, bits per weight, memory, parameters) is shown before
// applying and follows the plan, Apply sends the request (or says why not: a bad sparsity, a
// structured share that removes no head, a quantized base), progress and cancel, a failed pass keeps
// the form, a finished one opens Compare, the scan is for quantize passes, and 80×24 in ASCII (NO_COLOR is the
// terminal's colour mode: the text is the same).

import Foundation
import Testing
import WhittleEngine
import WhittleTestSupport

@testable import WhittleUI

@Suite struct CompressPruneTests {
    /// The Compress screen with the tiny sample model read and the prune pass chosen.
    static func prune(width: Int = 100, height: Int = 30, ascii: Bool = false) -> AppState {
        var state = CompressTests.ready(width: width, height: height, ascii: ascii)
        state.compress.focus = .pass
        _ = update(&state, .key(.right))
        return state
    }

    func frame(_ state: AppState) -> Screen { render(state, TrainingMetricsSnapshot(), .builtinDefault) }

    func type(_ text: String, into state: inout AppState) {
        for c in text { _ = update(&state, .key(.character(c))) }
    }

    @Test func testPrune_thePassRowSwitchesTheRowsAndThePrediction() throws {
        var state = Self.prune()
        #expect(state.compress.pass == .prune)
        #expect(state.compress.fields == [.model, .pass, .pruneMethod, .sparsity, .pattern, .structure, .samples, .output])
        let text = frame(state).text
        #expect(text.contains("sparsity") && text.contains("structured") && !text.contains("embedding"))
        let predicted = try #require(try? state.compress.pruningPrediction?.get())
        #expect(predicted == (try PruningPlan(method: .wanda, sparsity: 0.5).predict(config: CompressTests.inspection.config)))
        #expect(text.contains(formatBytes(predicted.fileBytes)) && text.contains("\(predicted.fileBytes) bytes"))
        #expect(text.contains(String(format: "%.2f", predicted.bitsPerWeight)))
        #expect(text.contains("held dense: no faster than the base"))
        #expect(state.compress.output.text == "variants/shakespeare-char-tiny-wanda50")
        // Tab walks the prune rows only.
        _ = update(&state, .key(.tab))
        #expect(state.compress.focus == .pruneMethod)
        // Back to quantize: its rows again.
        state.compress.focus = .pass
        _ = update(&state, .key(.left))
        #expect(state.compress.pass == .quantize && frame(state).text.contains("embedding"))
    }

    @Test func testPrune_thePredictionFollowsSparsityPatternAndStructure() throws {
        var state = Self.prune()
        let half = try #require(try? state.compress.pruningPrediction?.get())
        state.compress.focus = .sparsity
        _ = update(&state, .key(.end))
        _ = update(&state, .key(.backspace))
        type("7", into: &state)
        #expect(state.compress.sparsity.text == "0.7")
        let seventy = try #require(try? state.compress.pruningPrediction?.get())
        #expect(seventy.fileBytes < half.fileBytes && seventy.prunedCount > half.prunedCount)
        #expect(state.compress.output.text == "variants/shakespeare-char-tiny-wanda70", "the output follows the sparsity")
        // 2:4 fixes the fraction at a half.
        state.compress.focus = .pattern
        _ = update(&state, .key(.right))
        #expect(state.compress.pattern == SparsityPattern(keep: 2, group: 4))
        #expect(try state.compress.pruningPlan.get().sparsity == 0.5)
        #expect(frame(state).text.contains("the pattern fixes it at 0.5"))
        #expect(state.compress.output.text == "variants/shakespeare-char-tiny-wanda-2of4")
        // Structured heads: a smaller model, fewer parameters; a pattern cannot go with it.
        state.compress.focus = .structure
        _ = update(&state, .key(.right))
        #expect(state.compress.structure == .heads)
        #expect(state.compress.pruningPrediction.map { if case .failure = $0 { true } else { false } } == true)
        state.compress.pattern = nil
        state.compress.sparsity = TextField("0.25")
        let heads = try #require(try? state.compress.pruningPrediction?.get())
        #expect(heads.config.layers.allSatisfy { $0.heads == 3 })
        #expect(heads.parameterCount < CompressTests.inspection.parameterCount)
        #expect(frame(state).text.contains("smaller matrices: less work per token"))
    }

    @Test func testPrune_applySendsTheRequestThenProgressAndCancel() {
        var state = Self.prune()
        let effects = update(&state, .key(.function(5)))
        #expect(effects == [.prune(PruneRequest(basePath: CompressTests.base, plan: PruningPlan(method: .wanda, sparsity: 0.5),
                                                calibrationSamples: 128, output: "variants/shakespeare-char-tiny-wanda50"))])
        _ = update(&state, .passProgress("pruning h.1.mlp.c_fc.weight (7/16)", 0.7))
        let text = frame(state).text
        #expect(text.contains("70% pruning h.1.mlp.c_fc.weight (7/16)") && text.contains("F8 cancels"))
        #expect(update(&state, .key(.function(5))).isEmpty, "one pass at a time")
        #expect(update(&state, .key(.function(8))) == [.cancelPass])
        #expect(state.compress.status == .cancelling)
        _ = update(&state, .passCancelled)
        #expect(frame(state).text.contains("pass cancelled; nothing was written"))
        #expect(state.compress.pass == .prune && state.compress.sparsity.text == "0.5")
    }

    @Test func testPrune_applyRefusesWhatCannotBeDone() {
        var state = Self.prune()
        state.compress.sparsity = TextField("1.5")
        #expect(update(&state, .key(.function(5))).isEmpty)
        #expect(state.compress.error == "sparsity must be a fraction between 0 and 1, e.g. 0.5")
        #expect(frame(state).text.contains("sparsity must be a fraction"))
        // 10% of 4 heads rounds to none.
        state.compress.sparsity = TextField("0.1")
        state.compress.structure = .heads
        #expect(update(&state, .key(.function(5))).isEmpty)
        #expect(state.compress.error?.contains("removes no heads of block 0") == true)
        // Magnitude needs no calibration windows; Wanda does.
        state.compress.structure = nil
        state.compress.samples = TextField("0")
        #expect(update(&state, .key(.function(5))).isEmpty)
        #expect(state.compress.error == "wanda needs a number of calibration windows of at least 1")
        state.compress.pruneMethod = .magnitude
        #expect(frame(state).text.contains("windows (magnitude uses none)"))
        guard case .prune(let request)? = update(&state, .key(.function(5))).first else {
            Issue.record("no pass requested: \(state.compress.error ?? "")")
            return
        }
        #expect(request.plan == PruningPlan(method: .magnitude, sparsity: 0.1))
        // A quantized base is refused.
        state.compress.status = .idle
        var quantized = CompressTests.inspection
        quantized.isFloat = false
        quantized.formatSummary = "q4_0"
        _ = update(&state, .modelInspected(quantized))
        #expect(update(&state, .key(.function(5))).isEmpty)
        #expect(state.compress.error?.contains("prune the fp32 model, then quantize") == true)
    }

    @Test func testPrune_aFailedPassShowsItsErrorAndKeepsTheForm() {
        var state = Self.prune()
        state.compress.pattern = SparsityPattern(keep: 2, group: 4)
        _ = update(&state, .key(.function(5)))
        _ = update(&state, .passFailed("SparseGPT could not prune h.0.attn.c_attn.weight"))
        #expect(state.screen == .compress && state.compress.pass == .prune)
        #expect(state.compress.pattern == SparsityPattern(keep: 2, group: 4))
        #expect(frame(state).text.contains("pass failed: SparseGPT could not prune"))
        #expect(!update(&state, .key(.function(5))).isEmpty, "the form can be applied again")
    }

    @Test func testPrune_aFinishedPassOpensItsVariantInCompare() {
        var state = Self.prune()
        _ = update(&state, .key(.function(5)))
        let effects = update(&state, .passFinished(directory: "variants/tiny-wanda50"))
        #expect(state.screen == .compare)
        #expect(state.compare.models == [CompressTests.base, "variants/tiny-wanda50"])
        #expect(effects == [.compare(ComparisonRequest(models: [CompressTests.base, "variants/tiny-wanda50"], speed: .init(repetitions: 3)))])
    }

    @Test func testPrune_aVariantDeletedSinceTheLastComparisonLeavesTheList() {
        var state = Self.prune()
        state.compare.models = [CompressTests.base, "variants/gone", "variants/kept"]
        _ = update(&state, .modelsMissing(["variants/gone"]))
        _ = update(&state, .key(.function(5)))
        _ = update(&state, .passFinished(directory: "variants/tiny-wanda50"))
        #expect(state.compare.models == [CompressTests.base, "variants/kept", "variants/tiny-wanda50"])
    }

    @Test func testPrune_theScanIsForQuantizePasses() {
        var state = Self.prune()
        #expect(update(&state, .key(.function(6))).isEmpty)
        #expect(state.compress.error?.contains("choose the quantize pass") == true)
    }

    @Test func testPrune_withoutAModelAsksForOne() {
        var state = AppState()
        _ = update(&state, .key(.character("w")))
        state.compress.pass = .prune
        #expect(frame(state).text.contains("(none: Enter chooses one)"))
        #expect(update(&state, .key(.function(5))).isEmpty)
        #expect(state.compress.error == "choose a model first (Enter on the model row)")
    }

    @Test func testPrune_fitsEightyByTwentyFourInASCII() {
        var state = Self.prune(width: 80, height: 24, ascii: true)
        var text = frame(state).text
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII }, "\(text)")
        #expect(text.contains("predicted variant") && text.contains("parameters"))
        #expect(text.contains("score |w| * |x|"), "the engine's signs spelled in ASCII")
        #expect(!update(&state, .key(.function(5))).isEmpty)
        _ = update(&state, .passProgress("pruning h.0.attn.c_attn.weight (1/16)", 0.5))
        text = frame(state).text
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII }, "\(text)")
        #expect(text.contains("50% pruning h.0.attn.c_attn.weight") && text.contains("F8 cancel"))
    }
}
