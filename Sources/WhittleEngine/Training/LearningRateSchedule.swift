// Learning-rate schedules: constant, linear warmup then cosine or linear decay to a floor.

import Foundation

/// Maps an iteration number to a learning rate (nanoGPT's `get_lr`).
public struct LearningRateSchedule: Equatable, Sendable {
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case constant, cosine, linear
    }

    public var kind: Kind
    public var peak: Float
    public var floor: Float
    public var warmupIterations: Int
    public var decayIterations: Int

    public init(kind: Kind, peak: Float, floor: Float, warmupIterations: Int, decayIterations: Int) {
        self.kind = kind
        self.peak = peak
        self.floor = floor
        self.warmupIterations = warmupIterations
        self.decayIterations = decayIterations
    }

    public init(_ config: TrainingConfig) {
        self.init(kind: config.schedule, peak: config.learningRate, floor: config.minLearningRate,
                  warmupIterations: config.warmupIterations, decayIterations: config.effectiveDecayIterations)
    }

    /// Learning rate at iteration `step` (0-based), exactly as nanoGPT computes it.
    public func rate(at step: Int) -> Float {
        if kind == .constant { return peak }
        if step < warmupIterations {
            return peak * Float(step + 1) / Float(warmupIterations + 1)
        }
        if step > decayIterations { return floor }
        let span = max(decayIterations - warmupIterations, 1)
        let progress = Double(step - warmupIterations) / Double(span)
        let coefficient: Double
        switch kind {
        case .cosine: coefficient = 0.5 * (1.0 + cos(Double.pi * progress))
        case .linear: coefficient = 1.0 - progress
        case .constant: coefficient = 1.0
        }
        return floor + Float(coefficient) * (peak - floor)
    }
}
