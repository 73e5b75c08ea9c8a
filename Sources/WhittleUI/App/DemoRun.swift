// A synthetic training run for demos, screenshots and tests: a noisy decaying loss with periodic
// validation, warmup + cosine learning rate, gradient norms with occasional spikes, tokens/s and a
// plausible memory ledger. Deterministic (seeded xorshift), so tests can rely on its output.

import Foundation
import WhittleEngine

/// A fake run that advances one step at a time and produces TrainingMetricsSnapshots.
public struct DemoRun: Sendable {
    public private(set) var snapshot = TrainingMetricsSnapshot()
    private var rng: UInt64
    private var learningRateScale = 1.0
    /// Seconds of simulated time per step.
    public var secondsPerStep = 0.05

    /// A run of `totalSteps` steps seeded with `seed`.
    public init(totalSteps: Int = 2000, seed: UInt64 = 1337) {
        rng = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
        snapshot.runName = "demo"
        snapshot.totalSteps = totalSteps
        snapshot.hyperparameters = HyperparameterValues()
        snapshot.memory = [
            MemoryCategory(name: "weights", bytes: 3_290_112), MemoryCategory(name: "gradients", bytes: 3_290_112),
            MemoryCategory(name: "optimizer", bytes: 6_580_224), MemoryCategory(name: "activations", bytes: 9_437_184),
            MemoryCategory(name: "workspace", bytes: 1_048_576),
        ]
        let ledger = snapshot.memory.reduce(0) { $0 + $1.bytes }
        let engineLedger = TrainingSession.MemoryLedger(
            weights: 3_290_112, gradients: 3_290_112 * 2, optimizer: 6_580_224, activations: 9_437_184,
            workspace: 1_048_576)
        snapshot.memory[1].bytes = engineLedger.gradients
        snapshot.workerMemory = WorkerMemory(
            workers: 2, perWorkerBytes: engineLedger.perWorkerBytes(workers: 2),
            stageBytes: engineLedger.zeroStages(workers: 2).map(\.total))
        snapshot.residentBytes = ledger + 18_000_000
        snapshot.peakResidentBytes = snapshot.residentBytes + 2_500_000
    }

    private mutating func uniform() -> Double {
        rng ^= rng << 13
        rng ^= rng >> 7
        rng ^= rng << 17
        return Double(rng >> 11) / Double(1 << 53)
    }

    /// Advances the run by `count` steps (stops at the total).
    public mutating func advance(steps count: Int = 1) {
        for _ in 0..<count where snapshot.step < snapshot.totalSteps { advanceOne() }
    }

    private mutating func advanceOne() {
        snapshot.step += 1
        let step = snapshot.step
        let t = Double(step)
        snapshot.elapsedSeconds += secondsPerStep
        let seconds = snapshot.elapsedSeconds
        let total = Double(snapshot.totalSteps)
        let warmup = min(100, total / 10)
        let cosine = 0.5 * (1 + cos(Double.pi * min(max((t - warmup) / (total - warmup), 0), 1)))
        let lr = (t < warmup ? 1e-3 * t / warmup : 1e-4 + (1e-3 - 1e-4) * cosine) * learningRateScale
        let base = 1.45 + 2.8 * exp(-t / 260)
        let loss = base + (uniform() - 0.5) * 0.35 + (uniform() < 0.01 ? 0.8 : 0)
        let grad = 0.35 + 1.6 * exp(-t / 150) + uniform() * 0.25 + (uniform() < 0.02 ? 2.5 : 0)
        let tokens = 12_000 + (uniform() - 0.5) * 1_500
        snapshot.trainLoss.append(MetricPoint(step: step, seconds: seconds, value: loss))
        snapshot.learningRate.append(MetricPoint(step: step, seconds: seconds, value: lr))
        snapshot.gradientNorm.append(MetricPoint(step: step, seconds: seconds, value: grad))
        snapshot.tokensPerSecond.append(MetricPoint(step: step, seconds: seconds, value: tokens))
        snapshot.tokensSeen += 12 * 64
        if step % 50 == 0 {
            snapshot.validationLoss.append(
                MetricPoint(step: step, seconds: seconds, value: base + 0.08 + (uniform() - 0.5) * 0.05))
        }
        snapshot.residentBytes = min(snapshot.residentBytes + Int(uniform() * 2000), snapshot.peakResidentBytes)
    }

    /// Applies a hyperparameter edit and records a chart marker.
    public mutating func apply(_ id: HyperparameterID, _ value: HyperparameterValue) {
        let old = snapshot.hyperparameters?[id]
        snapshot.hyperparameters?[id] = value
        if id == .learningRate, case .real(let new) = value, case .real(let previous)? = old, previous > 0 {
            learningRateScale *= new / previous
        }
        snapshot.changes.append(
            SettingChange(
                step: snapshot.step, seconds: snapshot.elapsedSeconds,
                summary: "\(id.rawValue) \(old?.text ?? "?") → \(value.text)"))
    }
}
