// The Compress and Compare screens driven through a WorkbenchController with the real engine jobs:
// choose the sample model, see the prediction, apply a Q4_0 pass (the file has exactly the predicted
// size), see the variant measured in Compare on a chosen text, generate side by side, export the
// table, cancel a second pass (no directory left), and delete the variant from outside (marked).

import Foundation
import Testing
import WhittleEngine
import WhittleTestSupport

@testable import WhittleUI

@Suite(.serialized) struct VariantWorkflowTests {
    static let base = Repository.path("sample-models/shakespeare-char-tiny")
    static let timeout = 120.0

    func type(_ text: String, _ controller: WorkbenchController) {
        for c in text { controller.handle(.key(.character(c))) }
    }

    /// Focuses the output row and replaces its text with `path`.
    func setOutput(_ path: String, _ controller: WorkbenchController) {
        while controller.state.compress.focus != .output { controller.handle(.key(.tab)) }
        controller.handle(.key(.end))
        for _ in 0..<controller.state.compress.output.text.count { controller.handle(.key(.backspace)) }
        type(path, controller)
    }

    func wait(_ controller: WorkbenchController, _ what: String, _ condition: (AppState) -> Bool) {
        let reached = controller.waitUntil(timeoutSeconds: Self.timeout, condition)
        #expect(reached, "\(what): \(controller.state.message ?? "")")
    }

    @Test func testWorkflow_compressAQ4PassThenCompareItCancelAndDelete() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-ui-variants")
        let config = try WorkbenchControllerTests.tinyConfig(in: scratch.path)
        let session = TrainingSession(origin: .start(config: config, directory: scratch.path + "/run"))
        defer { session.stop(saving: false) }
        let controller = WorkbenchController(session: session, runName: "run", state: AppState(width: 120, height: 40),
                                             autoStart: false, variantsRoot: scratch.path("variants"))
        defer { controller.stopJobs() }
        try FileManager.default.createDirectory(atPath: scratch.path("text"), withIntermediateDirectories: true)
        try String(repeating: "First Citizen:\nBefore we proceed any further, hear me speak.\n", count: 40)
            .write(toFile: scratch.path("text/first.txt"), atomically: true, encoding: .utf8)
        try String(repeating: "ROMEO:\nBut, soft! what light through yonder window breaks?\n", count: 40)
            .write(toFile: scratch.path("text/second.txt"), atomically: true, encoding: .utf8)
        wait(controller, "the run loaded") { $0.runConfig != nil && $0.runDirectory != nil }

        // Compare evaluates on a short text (the validation split takes minutes in a debug build).
        controller.handle(.key(.character("v")))
        controller.handle(.key(.character("d")))
        type(scratch.path("text/first.txt"), controller)
        controller.handle(.key(.escape))
        #expect(controller.state.compare.dataPath == scratch.path("text/first.txt"))
        controller.handle(.key(.escape))

        // Compress: the run has no checkpoint yet, so reading it fails and says why; then choose the sample model.
        controller.handle(.key(.character("w")))
        wait(controller, "the run cannot be read yet") { $0.compress.inspectionError != nil }
        while controller.state.compress.focus != .model { controller.handle(.key(.backTab)) }
        controller.handle(.key(.enter))
        controller.handle(.modelsListed([ModelEntry(path: Self.base, detail: "model")]))
        controller.handle(.key(.enter))
        wait(controller, "the sample model read") { $0.compress.inspection != nil }
        let output = scratch.path("variants/tiny-q4_0")
        setOutput(output, controller)
        let predicted = try #require(try controller.state.compress.prediction?.get())

        // Apply: the pass runs, the variant opens in Compare, measured against its base.
        controller.handle(.key(.function(5)))
        wait(controller, "the pass and the comparison") { $0.screen == .compare && $0.compare.status == .measured }
        #expect(controller.state.compress.status == .finished(directory: output))
        let size = try FileManager.default.attributesOfItem(atPath: output + "/model.gguf")[.size] as? Int
        #expect(size == predicted.fileBytes, "the file has the predicted size")
        let report = try #require(controller.state.compare.report)
        #expect(report.models.map(\.model) == [Self.base, output])
        #expect(report.models[1].format == "q4_0+q8_0")

        // Another evaluation text chosen on screen: the base is measured again on it.
        #expect(report.data == scratch.path("text/first.txt"))
        controller.handle(.key(.character("d")))
        for _ in 0..<"first.txt".count { controller.handle(.key(.backspace)) }
        type("second.txt", controller)
        controller.handle(.key(.enter))
        wait(controller, "measured on the second text") { $0.compare.report?.data == scratch.path("text/second.txt") }
        #expect(controller.state.compare.report?.models[0].evaluation != report.models[0].evaluation)

        // Side by side, then export.
        controller.handle(.key(.character("g")))
        controller.handle(.key(.enter))
        wait(controller, "both generations") { $0.compare.sideBySide?.isRunning == false }
        let sideBySide = try #require(controller.state.compare.sideBySide)
        #expect(sideBySide.summaries.allSatisfy { ($0?.generatedTokens ?? 0) == 160 }, "\(sideBySide.failures)")
        controller.handle(.key(.character("x")))
        wait(controller, "the export") { $0.message?.hasPrefix("exported") == true }
        for name in ["compare.md", "compare.csv", "compare.json"] {
            #expect(FileManager.default.fileExists(atPath: scratch.path("variants/" + name)), "\(name)")
        }

        // A second pass cancelled at once leaves no directory.
        controller.handle(.key(.character("w")))
        setOutput(scratch.path("variants/cancelled"), controller)
        controller.handle(.key(.function(5)))
        controller.handle(.key(.function(8)))
        wait(controller, "the cancel") { $0.compress.status == .cancelled }
        #expect(!FileManager.default.fileExists(atPath: scratch.path("variants/cancelled")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("variants")).allSatisfy { !$0.hasPrefix("cancelled") })

        // The variant deleted from outside while Compare is open is marked.
        controller.handle(.key(.function(3)))
        try FileManager.default.removeItem(atPath: output)
        wait(controller, "the deletion noticed") { $0.compare.missing == [output] }
        #expect(controller.state.message == "\(output) was deleted from outside")
    }

    @Test func testWorkflow_pruneWanda50ThenCompareItAndCancelAnother() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-ui-prune")
        let config = try WorkbenchControllerTests.tinyConfig(in: scratch.path)
        let session = TrainingSession(origin: .start(config: config, directory: scratch.path + "/run"))
        defer { session.stop(saving: false) }
        let controller = WorkbenchController(session: session, runName: "run", state: AppState(width: 120, height: 40),
                                             autoStart: false, variantsRoot: scratch.path("variants"))
        defer { controller.stopJobs() }
        try String(repeating: "First Citizen:\nBefore we proceed any further, hear me speak.\n", count: 40)
            .write(toFile: scratch.path("first.txt"), atomically: true, encoding: .utf8)
        wait(controller, "the run loaded") { $0.runConfig != nil && $0.runDirectory != nil }
        controller.handle(.key(.character("v")))
        controller.handle(.key(.character("d")))
        type(scratch.path("first.txt"), controller)
        controller.handle(.key(.escape))
        controller.handle(.key(.escape))

        // Compress the sample model with the prune pass: Wanda 50% on 8 calibration windows.
        controller.handle(.key(.character("w")))
        while controller.state.compress.focus != .model { controller.handle(.key(.backTab)) }
        controller.handle(.key(.enter))
        controller.handle(.modelsListed([ModelEntry(path: Self.base, detail: "model")]))
        controller.handle(.key(.enter))
        wait(controller, "the sample model read") { $0.compress.inspection != nil }
        controller.handle(.key(.tab))
        controller.handle(.key(.right))
        #expect(controller.state.compress.pass == .prune && controller.state.compress.pruneMethod == .wanda)
        while controller.state.compress.focus != .samples { controller.handle(.key(.tab)) }
        for _ in 0..<3 { controller.handle(.key(.backspace)) }
        type("8", controller)
        let output = scratch.path("variants/tiny-wanda50")
        setOutput(output, controller)
        let predicted = try #require(try controller.state.compress.pruningPrediction?.get())

        controller.handle(.key(.function(5)))
        wait(controller, "the pass and the comparison") { $0.screen == .compare && $0.compare.status == .measured }
        #expect(controller.state.compress.status == .finished(directory: output))
        let size = try FileManager.default.attributesOfItem(atPath: output + "/" + ModelDirectory.sparseWeightsName)[.size] as? Int
        #expect(size == predicted.fileBytes, "the file has the predicted size")
        let variant = try Variant.load(output)
        #expect(variant.bitsPerWeight == predicted.bitsPerWeight)
        #expect(variant.command.hasPrefix("whittle prune --model \(Self.base) --method wanda --sparsity 0.5 --calibration-samples 8"))
        let report = try #require(controller.state.compare.report)
        #expect(report.models.map(\.model) == [Self.base, output])

        // Another prune pass cancelled at once leaves no directory.
        controller.handle(.key(.character("w")))
        #expect(controller.state.compress.pass == .prune, "the form keeps the pass")
        setOutput(scratch.path("variants/cancelled"), controller)
        controller.handle(.key(.function(5)))
        controller.handle(.key(.function(8)))
        wait(controller, "the cancel") { $0.compress.status == .cancelled }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("variants")).allSatisfy { !$0.hasPrefix("cancelled") })
    }
}
