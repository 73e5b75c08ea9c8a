// The adapter from the engine's TrainingSession snapshot to the UI's TrainingMetricsSnapshot.
// Incremental: each call converts only the steps published since the previous call, so a frame
// costs O(new steps), not O(history). Metric time is cumulative step time (pauses excluded), and
// setting-change markers use the same clock, so charts by time line markers up with points.

import WhittleEngine

/// Keeps a TrainingMetricsSnapshot in step with a TrainingSession's snapshots.
public struct SessionMetrics: Sendable {
    /// The converted view model.
    public private(set) var metrics = TrainingMetricsSnapshot()
    /// The run's name as shown in the header (e.g. the run directory's last component).
    public var runName: String
    /// Steps converted so far.
    private var converted = 0
    /// Cumulative step seconds after each converted step.
    private var stepSeconds: [Double] = []
    private var lastVersion = -1

    public init(runName: String) {
        self.runName = runName
        metrics.runName = runName
    }

    /// Converts what changed in `snapshot` and returns the updated metrics.
    @discardableResult
    public mutating func update(from snapshot: TrainingSession.Snapshot) -> TrainingMetricsSnapshot {
        guard snapshot.version != lastVersion else { return metrics }
        if snapshot.history.count < converted { reset() }
        lastVersion = snapshot.version
        for record in snapshot.history[converted...] { append(record) }
        converted = snapshot.history.count
        metrics.runName = runName + Self.suffix(snapshot.state)
        metrics.step = snapshot.step
        metrics.totalSteps = snapshot.totalSteps
        metrics.tokensSeen = snapshot.tokensSeen
        metrics.elapsedSeconds = snapshot.elapsedSeconds
        metrics.hasEngineETA = true
        metrics.engineETASeconds = snapshot.etaSeconds
        metrics.hyperparameters = snapshot.config.map { HyperparameterValues(config: $0) }
        if let ledger = snapshot.memory {
            metrics.memory = [
                MemoryCategory(name: "weights", bytes: ledger.weights),
                MemoryCategory(name: "gradients", bytes: ledger.gradients),
                MemoryCategory(name: "optimizer", bytes: ledger.optimizer),
                MemoryCategory(name: "activations", bytes: ledger.activations),
                MemoryCategory(name: "workspace", bytes: ledger.workspace),
            ]
            let workers = snapshot.config?.workers ?? 1
            metrics.workerMemory = WorkerMemory(
                workers: workers, perWorkerBytes: ledger.perWorkerBytes(workers: workers),
                stageBytes: ledger.zeroStages(workers: workers).map(\.total))
            metrics.residentBytes = ledger.residentBytes
            metrics.peakResidentBytes = ledger.peakResidentBytes
        }
        if metrics.changes.count != snapshot.changes.count {
            metrics.changes = snapshot.changes.map { change in
                SettingChange(step: change.step, seconds: seconds(afterStep: change.step),
                              summary: "\(change.key) \(change.old) → \(change.new)")
            }
        }
        if metrics.compressions.count != snapshot.compressions.count {
            metrics.compressions = snapshot.compressions.map { event in
                CompressionMarker(step: event.step, seconds: seconds(afterStep: event.step), label: event.chartLabel)
            }
        }
        return metrics
    }

    /// Cumulative step time after `step` steps (0 before the first).
    private func seconds(afterStep step: Int) -> Double {
        step > 0 && step <= stepSeconds.count ? stepSeconds[step - 1] : stepSeconds.last ?? 0
    }

    private mutating func reset() {
        let name = runName
        self = SessionMetrics(runName: name)
    }

    private mutating func append(_ record: StepRecord) {
        let seconds = (stepSeconds.last ?? 0) + record.milliseconds / 1000
        stepSeconds.append(seconds)
        func point(_ value: Double) -> MetricPoint { MetricPoint(step: record.step, seconds: seconds, value: value) }
        metrics.trainLoss.append(point(Double(record.loss)))
        metrics.learningRate.append(point(Double(record.learningRate)))
        metrics.gradientNorm.append(point(Double(record.gradientNorm)))
        metrics.tokensPerSecond.append(point(record.tokensPerSecond))
        if let flushed = record.flushedGradients { metrics.flushedGradients.append(point(Double(flushed))) }
        if let scale = record.lossScale { metrics.lossScale.append(point(Double(scale))) }
        if record.skipped == true { metrics.skippedSteps += 1 }
        if let evaluation = record.evaluation { metrics.validationLoss.append(point(Double(evaluation.validation))) }
    }

    private static func suffix(_ state: TrainingSession.State) -> String {
        switch state {
        case .loading: " (loading...)"
        case .failed: " (failed)"
        default: ""
        }
    }
}
