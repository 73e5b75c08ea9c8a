// SessionMetrics: the engine-snapshot → view-model adapter converts history incrementally, keeps
// one clock for points and change markers, names a loading or failed run, and lists the memory ledger.

import Testing
@testable import WhittleEngine

@testable import WhittleUI

@Suite struct SessionMetricsTests {
    static func record(_ step: Int, milliseconds: Double = 100, evaluation: Bool = false) -> StepRecord {
        var record = StepRecord(step: step, loss: Float(5 - Double(step) * 0.1), learningRate: 1e-3, gradientNorm: 1,
                                milliseconds: milliseconds, tokens: 768)
        if evaluation { record.evaluation = LossEstimate(train: 2, validation: 2.5) }
        return record
    }

    static func snapshot(steps: Int, version: Int) -> TrainingSession.Snapshot {
        var snapshot = TrainingSession.Snapshot(directory: "runs/example")
        snapshot.state = .running
        snapshot.history = (1...max(steps, 1)).prefix(steps).map { record($0, evaluation: $0 % 2 == 0) }
        snapshot.step = steps
        snapshot.totalSteps = 10
        snapshot.tokensSeen = steps * 768
        snapshot.elapsedSeconds = Double(steps) * 0.12
        snapshot.version = version
        return snapshot
    }

    @Test func testSessionMetrics_headerETAIsTheSessionsEstimate() {
        var adapter = SessionMetrics(runName: "run")
        var snapshot = Self.snapshot(steps: 3, version: 1)
        snapshot.etaSeconds = 4321
        let metrics = adapter.update(from: snapshot)
        #expect(metrics.etaSeconds == 4321, "not the average-pace estimate (\(0.12 * 7))")
        var state = AppState(width: 120, height: 30)
        state.runState = .running
        #expect(render(state, metrics, .builtinDefault).line(0).contains("ETA 1h12m"))
        snapshot.etaSeconds = nil
        snapshot.version = 2
        #expect(adapter.update(from: snapshot).etaSeconds == nil, "unknown to the session: shown as --")
    }

    @Test func testSessionMetrics_convertsHistoryWithCumulativeStepTime() {
        var adapter = SessionMetrics(runName: "run")
        let metrics = adapter.update(from: Self.snapshot(steps: 3, version: 1))
        #expect(metrics.trainLoss.map(\.step) == [1, 2, 3])
        #expect(metrics.trainLoss.map(\.seconds) == [0.1, 0.2, 0.30000000000000004])
        #expect(metrics.validationLoss.map(\.step) == [2])
        #expect(metrics.validationLoss.first?.value == 2.5)
        #expect(metrics.tokensPerSecond.first?.value == 7680)
        #expect(metrics.step == 3 && metrics.totalSteps == 10 && metrics.tokensSeen == 3 * 768)
        #expect(metrics.runName == "run")
    }

    @Test func testSessionMetrics_appendsOnlyNewStepsAndResetsOnShorterHistory() {
        var adapter = SessionMetrics(runName: "run")
        adapter.update(from: Self.snapshot(steps: 2, version: 1))
        let more = adapter.update(from: Self.snapshot(steps: 5, version: 2))
        #expect(more.trainLoss.map(\.step) == [1, 2, 3, 4, 5])
        let same = adapter.update(from: Self.snapshot(steps: 5, version: 2))
        #expect(same.trainLoss.count == 5, "an unchanged version converts nothing")
        let restarted = adapter.update(from: Self.snapshot(steps: 1, version: 3))
        #expect(restarted.trainLoss.map(\.step) == [1])
    }

    @Test func testSessionMetrics_changeMarkersUseTheStepClock() {
        var adapter = SessionMetrics(runName: "run")
        var snapshot = Self.snapshot(steps: 4, version: 1)
        snapshot.changes = [TrainingSession.SettingChange(step: 2, seconds: 99, key: "learning_rate", old: "0.001", new: "0.0003")]
        let metrics = adapter.update(from: snapshot)
        #expect(metrics.changes == [SettingChange(step: 2, seconds: 0.2, summary: "learning_rate 0.001 → 0.0003")])
    }

    @Test func testSessionMetrics_statesMemoryAndHyperparameters() {
        var adapter = SessionMetrics(runName: "run")
        var snapshot = Self.snapshot(steps: 0, version: 1)
        snapshot.state = .loading
        #expect(adapter.update(from: snapshot).runName == "run (loading...)")
        var config = TrainingConfig()
        config.learningRate = 3e-4
        snapshot.config = config
        snapshot.state = .idle
        snapshot.memory = TrainingSession.MemoryLedger(weights: 4, gradients: 8, optimizer: 8, activations: 100, workspace: 10,
                                                       residentBytes: 1000, peakResidentBytes: 2000)
        snapshot.version = 2
        let metrics = adapter.update(from: snapshot)
        #expect(metrics.memory.map(\.name) == ["weights", "gradients", "optimizer", "activations", "workspace"])
        #expect(metrics.memory.map(\.bytes) == [4, 8, 8, 100, 10])
        #expect(metrics.residentBytes == 1000 && metrics.peakResidentBytes == 2000)
        #expect(metrics.hyperparameters?[.learningRate] == .real(0.0003))
        #expect(metrics.runName == "run")
    }
}
