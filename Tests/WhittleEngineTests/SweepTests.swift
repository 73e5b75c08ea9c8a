// Sweep planning: the grid, validation of every combination before anything runs, and the tables.

import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct SweepTests {
    @Test func testSweepPlan_expandsTheGridInOrder() throws {
        let plan = try SweepPlan(base: TrainingConfig(), variations: ["learning_rate=1e-3,3e-4", "workers=1,2,3"],
                                 fixed: ["max_iters=10"])
        #expect(plan.runs.count == 6)
        #expect(plan.runs.map(\.name).first == "learning_rate-1e-3_workers-1")
        #expect(plan.runs[4].config.learningRate == 3e-4 && plan.runs[4].config.workers == 2)
        #expect(plan.runs.allSatisfy { $0.config.maxIterations == 10 })
        #expect(plan.variedKeys == ["learning_rate", "workers"])
    }

    @Test func testSweepPlan_rejectsBadInputBeforeRunning() {
        func message(_ variations: [String]) -> String? {
            do { _ = try SweepPlan(base: TrainingConfig(), variations: variations) } catch let error as WhittleError {
                return error.message
            } catch { return nil }
            return nil
        }
        #expect(message(["learnin_rate=1e-3"])?.contains("did you mean `learning_rate`") == true)
        #expect(message(["learning_rate=1e-3,-1"])?.contains("run learning_rate=-1") == true)
        #expect(message(["workers=1,2", "workers=3"])?.contains("varied twice") == true)
        #expect(message(["workers"])?.contains("key=value1,value2") == true)
        #expect(message([])?.contains("at least one --vary") == true)
    }

    /// Every combination's dataset, memory and time are checked before the first run starts.
    @Test func testSweepPlan_checksEveryRunsResourcesUpFront() throws {
        let directory = TemporaryDirectory()
        let base = try TinyTraining.config(in: directory.path)
        let budget = ResourceBudget(availableBytes: 16 * 1024 * 1024 * 1024, source: "test")
        let fits = try SweepPlan(base: base, variations: ["learning_rate=1e-3,3e-4"])
        try fits.checkResources(confirmedLong: false, budget: budget)
        let huge = try SweepPlan(base: base, variations: ["n_embd=16,65536"])
        let memory = #expect(throws: WhittleError.self) { try huge.checkResources(confirmedLong: true, budget: budget) }
        #expect(memory?.message.contains("run n_embd-65536") == true && memory?.message.contains("would need") == true,
                "\(String(describing: memory))")
        let long = try SweepPlan(base: base, variations: ["max_iters=8,100000000000"])
        let time = #expect(throws: WhittleError.self) { try long.checkResources(confirmedLong: false, budget: budget) }
        #expect(time?.kind == .needsConfirmation)
        try long.checkResources(confirmedLong: true, budget: budget)
        var missing = base
        missing.datasetPath = directory.path + "/nowhere.txt"
        let data = #expect(throws: WhittleError.self) {
            try SweepPlan(base: missing, variations: ["seed=1,2"]).checkResources(confirmedLong: true, budget: budget)
        }
        #expect(data?.message.contains("does not exist") == true)
    }

    @Test func testSweepTable_rendersEveryFormat() throws {
        let row = SweepResult(name: "a", settings: ["optimizer": "adamw"], status: "ok", validationLoss: 1.9,
                              validationStandardError: 0.005, secondsToTarget: 12.5, tokensPerSecond: 29_000,
                              medianMilliseconds: 26, ledgerBytes: 50 * 1_048_576, peakResidentBytes: 170 * 1_048_576)
        let failed = SweepResult(name: "b", settings: ["optimizer": "lion"], status: "failed: error: x, y")
        let markdown = SweepTable.markdown([row, failed], keys: ["optimizer"], targetLoss: 2)
        #expect(markdown.contains("| adamw | 1.9000 ± 0.0050 | 12.5 s | 29000 | 26.0 | 50.0 | 170.0 | ok |"))
        #expect(markdown.contains("| lion | – |"))
        let csv = SweepTable.csv([row, failed], keys: ["optimizer"], targetLoss: 2)
        #expect(csv.split(separator: "\n").count == 3)
        #expect(csv.contains("\"failed: error: x, y\""))
        #expect(try SweepTable.json([row]).contains("\"val_loss\" : 1.9"))
    }
}
