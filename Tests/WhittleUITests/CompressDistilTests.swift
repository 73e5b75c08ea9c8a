// The Compress screen's distil pass as pure update and render: the pass row switches the form to the
// student's rows with defaults for the teacher (half its blocks, its width and heads, alpha 0.5, T 2),
// the engine's prediction of the student (file, bits per weight, memory, parameters, steps × tokens)
// beside the teacher before anything trains, validation through the key table (a width the heads do
// not divide, a typed non-number, teacher_layers with another width), Apply's request, the training
// progress and cancel, a failed pass keeping the form, a finished one opening Compare, a teacher with
// no config.toml, and 80×24 in ASCII.

import Foundation
import Testing
import WhittleEngine
import WhittleTestSupport

@testable import WhittleUI

@Suite struct CompressDistilTests {
    /// The tiny sample model read as the engine reads it (with its config.toml).
    static let teacher: ModelInspection = {
        do {
            return try ModelInspection.read(CompressTests.base)
        } catch {
            fatalError("cannot read \(CompressTests.base): \(error)")
        }
    }()

    /// The Compress screen with the tiny sample model read and the distil pass chosen.
    static func distil(width: Int = 100, height: Int = 30, ascii: Bool = false) -> AppState {
        var state = CompressTests.ready(width: width, height: height, ascii: ascii)
        _ = update(&state, .modelInspected(teacher))
        state.compress.focus = .pass
        _ = update(&state, .key(.right))
        _ = update(&state, .key(.right))
        return state
    }

    func frame(_ state: AppState) -> Screen { render(state, TrainingMetricsSnapshot(), .builtinDefault) }

    func type(_ text: String, into state: inout AppState) {
        for c in text { _ = update(&state, .key(.character(c))) }
    }

    /// Replaces the text of distil row `field` with `text`, as typed.
    func set(_ field: CompressState.Field, _ text: String, _ state: inout AppState) {
        state.compress.focus = field
        _ = update(&state, .key(.end))
        for _ in 0..<12 { _ = update(&state, .key(.backspace)) }
        type(text, into: &state)
    }

    @Test func testDistil_thePassRowShowsTheStudentRowsWithTheTeachersDefaults() throws {
        let state = Self.distil()
        #expect(state.compress.pass == .distil)
        #expect(state.compress.fields == [.model, .pass, .studentLayers, .studentWidth, .studentHeads, .studentInit, .alpha,
                                          .temperature, .steps, .output])
        let form = state.compress.distil
        #expect(form.layers.text == "2" && form.width.text == "128" && form.heads.text == "4", "half the blocks, the same width and heads")
        #expect(form.alpha.text == "0.5" && form.temperature.text == "2.0" && form.steps.text == "600")
        #expect(form.studentInit == .teacherLayers)
        #expect(state.compress.output.text == "runs/shakespeare-char-tiny-student-2x128")
        let text = frame(state).text
        #expect(text.contains("teacher") && text.contains("predicted student") && text.contains("temperature"))
        #expect(text.contains("(the teacher has 4)") && !text.contains("plan map") && !text.contains("calibration"))
    }

    @Test func testDistil_thePredictionIsTheStudentsShapeFileAndTraining() throws {
        var state = Self.distil()
        let p = try #require(try state.compress.distillationPrediction?.get())
        let student = ModelConfig(layerCount: 2, headCount: 4, embeddingWidth: 128, contextLength: 64, vocabularySize: 65, hasBias: true)
        #expect(p.model == student)
        let layout = ParameterLayout(student.dimensions)
        #expect(p.parameterCount == layout.totalCount && p.memoryBytes == 4 * layout.totalCount && p.bitsPerWeight == 32)
        #expect(p.parameterCount < Self.teacher.parameterCount)
        #expect(p.steps == 600 && p.tokensPerStep == 12 * 64 && p.tokens == 600 * 768, "the teacher's batch and context")
        #expect(p.config.teacher == CompressTests.base && p.config.initFrom == "scratch" && p.config.distillAlpha == 0.5)
        #expect(p.config.warmupIterations == 60 && p.config.decayIterations == nil && p.config.checkpointInterval == 0)
        let text = frame(state).text
        #expect(text.contains(formatBytes(p.fileBytes)) && text.contains("\(p.fileBytes) bytes"))
        #expect(text.contains(formatCount(p.parameterCount)) && text.contains(formatCount(Self.teacher.parameterCount)))
        #expect(text.contains("600 steps") && text.contains("460,800 tokens"))
        // Fewer steps and another depth: the prediction and the output follow.
        set(.steps, "40", &state)
        set(.studentLayers, "1", &state)
        let short = try #require(try state.compress.distillationPrediction?.get())
        #expect(short.tokens == 40 * 768 && short.parameterCount < p.parameterCount && short.config.warmupIterations == 4)
        #expect(state.compress.output.text == "runs/shakespeare-char-tiny-student-1x128")
    }

    @Test func testDistil_badSettingsAreRefusedWithTheKeyTablesMessages() {
        var state = Self.distil()
        set(.studentHeads, "3", &state)
        #expect(update(&state, .key(.function(5))).isEmpty)
        #expect(state.compress.error?.contains("divisible") == true, "\(state.compress.error ?? "nil")")
        #expect(frame(state).text.contains("divisible"))
        set(.studentHeads, "4", &state)
        set(.alpha, "1.5", &state)
        #expect(update(&state, .key(.function(5))).isEmpty)
        #expect(state.compress.error?.contains("distill_alpha must be in [0, 1]") == true)
        set(.alpha, "0.5", &state)
        set(.temperature, "1.2.3", &state)
        #expect(update(&state, .key(.function(5))).isEmpty)
        #expect(state.compress.error?.contains("`distill_temperature` in the distil form must be") == true, "\(state.compress.error ?? "nil")")
        set(.temperature, "2", &state)
        // teacher_layers copies the embeddings: another width cannot take them.
        set(.studentWidth, "64", &state)
        #expect(update(&state, .key(.function(5))).isEmpty)
        #expect(state.compress.error?.contains("student_init = teacher_layers needs n_embd") == true)
        state.compress.focus = .studentInit
        _ = update(&state, .key(.right))
        #expect(state.compress.distil.studentInit == .scratch)
        #expect(!update(&state, .key(.function(5))).isEmpty, "a narrower student from scratch is fine")
        // A run the engine would ask to confirm (over an hour by its estimate) is refused by the form.
        state.compress.status = .idle
        set(.steps, "2000000", &state)
        #expect(update(&state, .key(.function(5))).isEmpty)
        #expect(state.compress.error?.contains("over an hour: lower the steps") == true, "\(state.compress.error ?? "nil")")
    }

    @Test func testDistil_applySendsTheRequestThenProgressAndCancel() throws {
        var state = Self.distil()
        set(.steps, "20", &state)
        let predicted = try #require(try state.compress.distillationPrediction?.get())
        let effects = update(&state, .key(.function(5)))
        #expect(effects == [.distil(DistilRequest(teacher: CompressTests.base, config: predicted.config, overrides: predicted.overrides,
                                                  runDirectory: "runs/shakespeare-char-tiny-student-2x128"))])
        #expect(predicted.overrides.contains("max_iters=20") && predicted.overrides.contains("n_layer=2"))
        _ = update(&state, .passProgress("step 7/20  loss 2.4512 (ce 2.6012, kl 0.3001)", 0.35))
        let text = frame(state).text
        #expect(text.contains("35% step 7/20  loss 2.4512 (ce 2.6012, kl 0.3001)") && text.contains("F8 cancels"))
        #expect(update(&state, .key(.function(5))).isEmpty, "one pass at a time")
        #expect(update(&state, .key(.function(8))) == [.cancelPass])
        #expect(frame(state).text.contains("cancelling at the next step"))
        _ = update(&state, .passCancelled)
        #expect(frame(state).text.contains("pass cancelled; nothing was written"))
        #expect(state.compress.pass == .distil && state.compress.distil.steps.text == "20", "the form is kept")
    }

    @Test func testDistil_aFailedPassShowsItsErrorAndKeepsTheForm() {
        var state = Self.distil()
        _ = update(&state, .key(.function(5)))
        _ = update(&state, .passFailed("'runs/x' already exists"))
        #expect(state.screen == .compress && state.compress.pass == .distil)
        #expect(frame(state).text.contains("pass failed: 'runs/x' already exists"))
        #expect(!update(&state, .key(.function(5))).isEmpty, "the form can be applied again")
    }

    @Test func testDistil_aFinishedPassOpensTheStudentInCompareAgainstTheTeacher() {
        var state = Self.distil()
        _ = update(&state, .key(.function(5)))
        let student = "runs/shakespeare-char-tiny-student-2x128/student"
        let effects = update(&state, .passFinished(directory: student))
        #expect(state.screen == .compare && state.compare.models == [CompressTests.base, student])
        #expect(effects == [.compare(ComparisonRequest(models: [CompressTests.base, student], speed: .init(repetitions: 3)))])
    }

    @Test func testDistil_aTeacherWithoutConfigTomlSaysSo() {
        var state = Self.distil()
        var bare = Self.teacher
        bare.trainingConfig = nil
        _ = update(&state, .modelInspected(bare))
        #expect(update(&state, .key(.function(5))).isEmpty)
        #expect(state.compress.error?.contains("has no config.toml naming the text it learned") == true)
    }

    @Test func testDistil_fitsEightyByTwentyFourInASCII() {
        var state = Self.distil(width: 80, height: 24, ascii: true)
        var text = frame(state).text
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII }, "\(text)")
        #expect(text.contains("predicted student") && text.contains("parameters") && text.contains("training"))
        #expect(text.contains("steps") && text.contains("Enter trains the student"), "\(text)")
        #expect(!update(&state, .key(.function(5))).isEmpty)
        _ = update(&state, .passProgress("step 300/600  loss 1.9876 (ce 2.0011, kl 0.1020)", 0.5))
        text = frame(state).text
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII }, "\(text)")
        #expect(text.contains("50% step 300/600  loss 1.9876") && text.contains("F8 cancel"), "\(text)")
        let wide = Self.distil(width: 200, height: 60)
        #expect(frame(wide).text.contains("x 768 tokens") || frame(wide).text.contains("× 768 tokens"))
    }
}
