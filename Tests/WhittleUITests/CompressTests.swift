// The Compress screen as pure update and render: the default model and its reading, the predicted
// size, bits per weight and memory shown before applying (and changing with the plan), a target
// bits per weight picking the type, Apply's request and its refusals, the progress bar and cancel,
// a failed pass (its error shown, the form kept), and a finished pass opening Compare.

import Foundation
import Testing
import WhittleEngine
import WhittleTestSupport

@testable import WhittleUI

@Suite struct CompressTests {
    static let base = Repository.path("sample-models/shakespeare-char-tiny")
    static let inspection: ModelInspection = {
        do {
            return ModelInspection(try LoadedModel.load(base), path: base)
        } catch {
            fatalError("cannot load \(base): \(error)")
        }
    }()

    /// The Compress screen with the tiny sample model read.
    static func ready(width: Int = 100, height: Int = 30, ascii: Bool = false) -> AppState {
        var state = AppState(width: width, height: height, useASCII: ascii)
        state.runDirectory = "runs/now"
        var config = TrainingConfig()
        config.initFrom = base
        _ = update(&state, .runConfigChanged(config, vocabularySize: 65))
        let effects = update(&state, .key(.character("w")))
        #expect(effects == [.inspectModel(base)], "the run's starting model is the default")
        _ = update(&state, .modelInspected(inspection))
        return state
    }

    func frame(_ state: AppState) -> Screen { render(state, TrainingMetricsSnapshot(), .builtinDefault) }

    @Test func testCompress_withoutAModelAsksForOne() {
        var state = AppState()
        #expect(update(&state, .key(.character("w"))).isEmpty)
        #expect(state.screen == .compress)
        #expect(frame(state).text.contains("(none: Enter chooses one)"))
        _ = update(&state, .key(.function(5)))
        #expect(state.compress.error == "choose a model first (Enter on the model row)")
        state.compress.focus = .model
        #expect(update(&state, .key(.enter)) == [.listLibrary])
        #expect(state.modal == .openModel(ModelPicker(entries: [], purpose: .compress)))
    }

    @Test func testCompress_predictionIsShownBeforeApplyingAndFollowsThePlan() throws {
        var state = Self.ready()
        let q4 = try #require(try? state.compress.prediction?.get())
        var text = frame(state).text
        #expect(text.contains("predicted variant"))
        #expect(text.contains(formatBytes(Self.inspection.weightsFileBytes)), "the base's file")
        #expect(text.contains(formatBytes(try #require(q4.fileBytes))))
        #expect(text.contains(String(format: "%.2f", q4.bitsPerWeight)))
        #expect(text.contains(formatBytes(q4.weightBytes)))
        // q4_0 → q4_1 (← on the type row) makes a bigger file.
        _ = update(&state, .key(.left))
        #expect(state.compress.type == .q4_1)
        let q41 = try #require(try? state.compress.prediction?.get())
        #expect(try #require(q41.fileBytes) > q4.fileBytes!)
        text = frame(state).text
        #expect(text.contains(formatBytes(q41.fileBytes!)))
        #expect(state.compress.output.text == "variants/shakespeare-char-tiny-q4_1", "the output follows the type")
    }

    @Test func testCompress_aTargetBitsPerWeightPicksTheLargestTypeThatFits() {
        var state = Self.ready()
        state.compress.focus = .target
        for c in "6" { _ = update(&state, .key(.character(c))) }
        let layout = ParameterLayout(Self.inspection.config.dimensions)
        let bits = QuantizationPlan.storableFormats.map { format in
            (format, try! QuantizationPlan(defaultFormat: format).predict(layout: layout).bitsPerWeight)
        }
        let expected = bits.filter { $0.1 <= 6 }.max { $0.1 < $1.1 }!.0
        #expect(state.compress.type == expected)
        #expect((try? state.compress.prediction?.get())!.bitsPerWeight <= 6)
        _ = update(&state, .key(.backspace))
        for c in "1" { _ = update(&state, .key(.character(c))) }
        #expect(state.compress.error?.hasPrefix("no type fits 1 bits per weight") == true)
    }

    @Test func testCompress_applySendsTheRequestAndShowsProgressThenCancel() {
        var state = Self.ready()
        let effects = update(&state, .key(.enter))
        let plan = QuantizationPlan(defaultFormat: .q4_0, embeddingFormat: .q8_0)
        #expect(effects == [.quantize(QuantizeRequest(basePath: Self.base, method: .rtn, plan: plan,
                                                      output: "variants/shakespeare-char-tiny-q4_0"))])
        _ = update(&state, .passProgress("h.1.mlp.c_fc.weight → q4_0", 0.5))
        let text = frame(state).text
        #expect(text.contains("50% h.1.mlp.c_fc.weight"))
        #expect(text.contains("F8 cancels"))
        #expect(update(&state, .key(.enter)).isEmpty, "one pass at a time")
        #expect(update(&state, .key(.function(8))) == [.cancelPass])
        #expect(state.compress.status == .cancelling)
        _ = update(&state, .passCancelled)
        #expect(frame(state).text.contains("pass cancelled; nothing was written"))
    }

    @Test func testCompress_calibratedMethodsNeedSamplesAndQuantizedModelsAreRefused() {
        var state = Self.ready()
        state.compress.focus = .method
        _ = update(&state, .key(.right))
        #expect(state.compress.method == .imatrix)
        state.compress.samples = TextField("0")
        #expect(update(&state, .key(.function(5))).isEmpty)
        #expect(state.compress.error == "imatrix needs a number of calibration windows of at least 1")
        state.compress.samples = TextField("32")
        guard case .quantize(let request)? = update(&state, .key(.function(5))).first else {
            Issue.record("no pass requested: \(state.compress.error ?? "")")
            return
        }
        #expect(request.method == .imatrix && request.calibrationSamples == 32)
        #expect(request.output == "variants/shakespeare-char-tiny-q4_0-imatrix")
        state.compress.status = .idle
        var quantized = Self.inspection
        quantized.isFloat = false
        quantized.formatSummary = "q4_0"
        state.compress.method = .rtn
        _ = update(&state, .modelInspected(quantized))
        #expect(update(&state, .key(.function(5))).isEmpty)
        #expect(state.compress.error?.contains("passes start from fp32 weights") == true)
    }

    @Test func testCompress_aFailedPassShowsItsErrorAndKeepsTheForm() {
        var state = Self.ready()
        _ = update(&state, .key(.enter))
        _ = update(&state, .passFailed("'variants/x' already exists"))
        #expect(state.screen == .compress)
        #expect(state.compress.type == .q4_0)
        #expect(frame(state).text.contains("pass failed: 'variants/x' already exists"))
    }

    @Test func testCompress_aFinishedPassOpensItsVariantInCompare() {
        var state = Self.ready()
        _ = update(&state, .key(.enter))
        let effects = update(&state, .passFinished(directory: "variants/tiny-q4_0"))
        #expect(state.screen == .compare)
        #expect(state.compare.models == [Self.base, "variants/tiny-q4_0"])
        #expect(effects == [.compare(ComparisonRequest(models: [Self.base, "variants/tiny-q4_0"], speed: .init(repetitions: 3)))])
    }

    @Test func testCompress_fitsEightyByTwentyFourInASCII() {
        let state = Self.ready(width: 80, height: 24, ascii: true)
        let text = frame(state).text
        let isASCII = text.unicodeScalars.allSatisfy { $0.isASCII }
        #expect(isASCII, "\(text)")
        #expect(text.contains("predicted variant"))
        #expect(text.contains("bits/weight"))
    }

    @Test func testCompress_theSensitivityMapIsWalkedAndEditedCellByCell() throws {
        var state = Self.ready(width: 120, height: 50)
        #expect(update(&state, .key(.function(6))) == [.scanSensitivity(basePath: Self.base, samples: 128)])
        _ = update(&state, .scanProgress("h.0.attn.c_attn.weight at q4_0", 0.25))
        #expect(frame(state).text.contains("25% scanning h.0.attn.c_attn.weight at q4_0"))
        let map = try Quantizer.scan(basePath: Self.base, calibration: Quantizer.Calibration(samples: 2))
        _ = update(&state, .scanFinished(map))
        #expect(state.compress.focus == .map)
        let uniform = try #require(state.compress.currentAssignment)
        #expect(state.compress.predictedDivergence == map.predictedDivergence(uniform))
        let before = try #require(try state.compress.prediction?.get())
        var text = frame(state).text
        #expect(text.contains("KLD (map)") && text.contains(String(format: "%.5f", map.predictedDivergence(uniform)!)))
        #expect(text.contains(map.rows[0].tensor) && text.contains("[") && text.contains("q5_1"))

        // Row 2 (a matrix), column q8_0: Enter makes that tensor q8_0; the file and the predicted KLD follow.
        _ = update(&state, .key(.down))
        let column = try #require(state.compress.mapFormats.firstIndex(of: .q8_0))
        for _ in 0..<column { _ = update(&state, .key(.right)) }
        _ = update(&state, .key(.enter))
        #expect(state.compress.assignment?[1] == .q8_0)
        #expect(state.compress.plan.rules.contains { $0.pattern == map.rows[1].tensor && $0.format == .q8_0 })
        let after = try #require(try state.compress.prediction?.get())
        #expect(after.fileBytes! > before.fileBytes!)
        #expect(state.compress.predictedDivergence == map.predictedDivergence(state.compress.assignment!))
        text = frame(state).text
        #expect(text.contains("plan chosen per tensor"))

        // A target picks the least-KLD plan within it on the map, and Apply sends the map with it.
        while state.compress.focus != .target { _ = update(&state, .key(.tab)) }
        for c in "5.5" { _ = update(&state, .key(.character(c))) }
        let planned = try map.plan(targetBitsPerWeight: 5.5)
        #expect(state.compress.assignment == planned)
        #expect((try #require(try state.compress.prediction?.get())).bitsPerWeight <= 5.5)
        guard case .quantize(let request)? = update(&state, .key(.function(5))).first else {
            Issue.record("no pass: \(state.compress.error ?? "")")
            return
        }
        #expect(request.sensitivity == map && request.targetBitsPerWeight == 5.5)
        #expect(request.plan == map.quantizationPlan(planned))
    }
}
