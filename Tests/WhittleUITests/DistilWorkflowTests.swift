// The Compress screen's distil pass driven through a WorkbenchController with the real engine job:
// choose the tiny sample model as teacher, switch the pass to distil, a 3-step one-block student;
// the published student has exactly the predicted file size and parameters, its variant.json records
// the distill pass and the `whittle distill` command, and it is measured in Compare against the
// teacher; a second pass cancelled at once leaves no run directory.

import Foundation
import Testing
import WhittleEngine
import WhittleTestSupport

@testable import WhittleUI

@Suite(.serialized) struct DistilWorkflowTests {
    static let teacher = Repository.path("sample-models/shakespeare-char-tiny")
    let steps = VariantWorkflowTests()

    /// Replaces the text of row `field` with `text`, as typed.
    func set(_ field: CompressState.Field, _ text: String, _ controller: WorkbenchController) {
        while controller.state.compress.focus != field { controller.handle(.key(.tab)) }
        controller.handle(.key(.end))
        for _ in 0..<12 { controller.handle(.key(.backspace)) }
        steps.type(text, controller)
    }

    @Test func testWorkflow_distilAOneBlockStudentThenCompareItAndCancelAnother() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-ui-distil")
        let config = try WorkbenchControllerTests.tinyConfig(in: scratch.path)
        let session = TrainingSession(origin: .start(config: config, directory: scratch.path + "/run"))
        defer { session.stop(saving: false) }
        let controller = WorkbenchController(session: session, runName: "run", state: AppState(width: 120, height: 40),
                                             autoStart: false, variantsRoot: scratch.path("variants"))
        defer { controller.stopJobs() }
        steps.wait(controller, "the run loaded") { $0.runConfig != nil && $0.runDirectory != nil }

        controller.handle(.key(.character("w")))
        while controller.state.compress.focus != .model { controller.handle(.key(.backTab)) }
        controller.handle(.key(.enter))
        controller.handle(.modelsListed([ModelEntry(path: Self.teacher, detail: "model")]))
        controller.handle(.key(.enter))
        steps.wait(controller, "the teacher read") { $0.compress.inspection?.trainingConfig != nil }
        controller.handle(.key(.tab))
        controller.handle(.key(.right))
        controller.handle(.key(.right))
        #expect(controller.state.compress.pass == .distil && controller.state.compress.distil.layers.text == "2")
        set(.studentLayers, "1", controller)
        set(.steps, "3", controller)
        let run = scratch.path("runs/tiny-student")
        steps.setOutput(run, controller)
        let predicted = try #require(try controller.state.compress.distillationPrediction?.get())

        controller.handle(.key(.function(5)))
        steps.wait(controller, "the pass and the comparison") { $0.screen == .compare && $0.compare.status == .measured }
        let student = run + "/student"
        #expect(controller.state.compress.status == .finished(directory: student))
        let size = try FileManager.default.attributesOfItem(atPath: student + "/" + ModelDirectory.weightsName)[.size] as? Int
        #expect(size == predicted.fileBytes, "the file has the predicted size")
        let variant = try Variant.load(student)
        #expect(variant.parameterCount == predicted.parameterCount && variant.bitsPerWeight == 32)
        #expect(variant.passes.first?.distillation?.steps == 3 && variant.passes.first?.distillation?.tokens == predicted.tokens)
        #expect(variant.command.hasPrefix("whittle distill --teacher \(Self.teacher) --config \(Self.teacher)/config.toml --set init_from=scratch"))
        #expect(variant.command.contains("--set n_layer=1") && variant.command.contains("--set max_iters=3"))
        let report = try #require(controller.state.compare.report)
        #expect(report.models.map(\.model) == [Self.teacher, student])

        // Another distil pass cancelled at once leaves no run directory.
        controller.handle(.key(.character("w")))
        #expect(controller.state.compress.pass == .distil, "the form keeps the pass")
        steps.setOutput(scratch.path("runs/cancelled"), controller)
        controller.handle(.key(.function(5)))
        controller.handle(.key(.function(8)))
        steps.wait(controller, "the cancel") { $0.compress.status == .cancelled }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("runs")) == ["tiny-student"])
    }
}
