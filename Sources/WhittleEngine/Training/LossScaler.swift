// Dynamic loss scaling for fp16 training, with torch.cuda.amp.GradScaler's semantics: the loss is
// multiplied by `scale` before backward so small gradients survive fp16's range; a step whose
// gradients hold an inf or NaN is skipped and the scale halved; after `growthInterval` clean steps
// in a row the scale doubles.

/// The state of a dynamic loss scaler (saved in checkpoints, so a resumed run continues exactly).
public struct LossScaler: Equatable, Codable, Sendable {
    /// PyTorch's defaults: init_scale 2^16, growth_factor 2, backoff_factor 0.5, growth_interval 2000.
    public static let initialScale: Float = 65536
    public static let growthFactor: Float = 2
    public static let backoffFactor: Float = 0.5
    public static let defaultGrowthInterval = 2000

    public private(set) var scale: Float = LossScaler.initialScale
    /// Clean steps since the scale last changed.
    public private(set) var cleanSteps = 0
    /// Steps skipped because their gradients overflowed.
    public private(set) var skippedSteps = 0
    public var growthInterval = LossScaler.defaultGrowthInterval

    public init(growthInterval: Int = LossScaler.defaultGrowthInterval) {
        self.growthInterval = growthInterval
    }

    /// Records a step's outcome: `finite` false skips it and halves the scale; true counts a clean
    /// step and doubles the scale after `growthInterval` of them.
    public mutating func update(gradientsFinite finite: Bool) {
        if finite {
            cleanSteps += 1
            if cleanSteps == growthInterval {
                scale *= Self.growthFactor
                cleanSteps = 0
            }
        } else {
            scale *= Self.backoffFactor
            cleanSteps = 0
            skippedSteps += 1
        }
    }

    enum CodingKeys: String, CodingKey {
        case scale, cleanSteps = "clean_steps", skippedSteps = "skipped_steps", growthInterval = "growth_interval"
    }
}
