// RunLauncher and the RunLibrary job around it: a new run's check uses the engine's messages and
// estimates, the listing finds model and run directories, origins for opening and starting, and the
// library answers the same through events on its own thread.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct RunLauncherTests {
    @Test func testLauncher_checkUsesTheEngineMessagesAndEstimates() throws {
        let scratch = TemporaryDirectory()
        let corpus = scratch.path + "/corpus.txt"
        try "hello world, hello there.\n".write(toFile: corpus, atomically: true, encoding: .utf8)
        let launcher = RunLauncher(baseConfig: TrainingConfig())
        let vocabulary = { (path: String) throws -> Int in try RunLauncher.vocabularySize(ofFile: path) }
        func message(_ request: NewRunRequest) -> String? {
            do {
                _ = try launcher.estimate(request, vocabulary: vocabulary)
                return nil
            } catch {
                return (error as? WhittleError)?.message
            }
        }
        var request = NewRunRequest(layers: 2, heads: 3, width: 16, context: 8, dataset: corpus, seed: 1)
        let divisible = try #require(message(request), "16 wide, 3 heads accepted")
        #expect(divisible.contains("n_embd") && divisible.contains("n_head"))
        request.heads = 2
        request.dataset = scratch.path + "/missing.txt"
        #expect(message(request) == "dataset '\(request.dataset)' does not exist")
        request.dataset = corpus
        let estimate = try launcher.estimate(request, vocabulary: vocabulary)
        let config = launcher.config(for: request)
        let size = try RunLauncher.vocabularySize(ofFile: corpus)
        #expect(estimate.parameters == config.parameterCount(vocabularySize: size))
        #expect(estimate.ledger == config.memoryEstimate(vocabularySize: size))
        request.layers = 0
        #expect(message(request)?.contains("n_layer") == true, "0 layers refused")
    }

    @Test func testLauncher_listsModelsAndRunsAndMakesOrigins() throws {
        let scratch = TemporaryDirectory()
        let files = FileManager.default
        try files.createDirectory(atPath: scratch.path + "/models/tiny", withIntermediateDirectories: true)
        try "{}".write(toFile: scratch.path + "/models/tiny/config.json", atomically: true, encoding: .utf8)
        try files.createDirectory(atPath: scratch.path + "/models/empty", withIntermediateDirectories: true)
        let launcher = RunLauncher(baseConfig: TrainingConfig(), roots: [scratch.path + "/models", scratch.path + "/none"],
                                   runsDirectory: scratch.path + "/runs")
        #expect(launcher.listEntries() == [RunEntry(path: scratch.path + "/models/tiny", step: nil)])
        let (origin, name) = try launcher.origin(for: .open(scratch.path + "/models/tiny"))
        guard case .start(let config, let directory) = origin else { Issue.record("a model should start a run"); return }
        #expect(config.initFrom == scratch.path + "/models/tiny")
        #expect(directory.hasPrefix(scratch.path + "/runs/tiny-") && name.contains("model tiny"))
        #expect(throws: WhittleError.self) { try launcher.origin(for: .open(scratch.path + "/models/empty")) }
    }

    @Test func testRunLibrary_answersThroughEventsInOrder() throws {
        let scratch = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path + "/models/tiny", withIntermediateDirectories: true)
        try "{}".write(toFile: scratch.path + "/models/tiny/config.json", atomically: true, encoding: .utf8)
        let library = RunLibrary(launcher: RunLauncher(baseConfig: TrainingConfig(), roots: [scratch.path + "/models"],
                                                       runsDirectory: scratch.path + "/runs"))
        defer { library.stop() }
        let request = NewRunRequest(layers: 0, heads: 2, width: 16, context: 8, dataset: "x", seed: 1)
        library.send(.list)
        library.send(.check(request))
        library.send(.resolve(.open(scratch.path + "/missing")))
        var events: [RunLibrary.Event] = []
        try waitUntil("the library's three answers", state: { "\(events)" }) {
            events += library.takeEvents()
            return events.count >= 3
        }
        guard events.count == 3, case .listed(let entries) = events[0], case .checked(let checked, .failure(let error)) = events[1],
              case .resolved(.open, .failure) = events[2]
        else {
            Issue.record("unexpected answers: \(events)")
            return
        }
        #expect(entries.map(\.path) == [scratch.path + "/models/tiny"])
        #expect(checked == request && error.message.contains("n_layer"))
    }
}
