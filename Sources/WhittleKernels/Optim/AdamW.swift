// AdamW (Loshchilov & Hutter 2019) over the flat parameter arena, with PyTorch's update rule:
// decoupled weight decay first, then the bias-corrected Adam step. The loop runs in C (CKernels)
// because Swift's squareRoot() does not vectorise; `referenceUpdate` is the plain Swift twin.

import CKernels

/// Hyperparameters of one AdamW step.
public struct AdamWSettings: Equatable, Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float

    public init(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// Adam's bias correction at `step` (1-based), folded the way PyTorch applies it:
    /// the step size lr / (1 − β1^t) and the factor 1 / √(1 − β2^t) on √v.
    func biasCorrection(step: Int) -> (stepSize: Float, inverseRootCorrection2: Float) {
        let correction1 = 1 - Float(Double(beta1).power(step))
        let correction2 = 1 - Float(Double(beta2).power(step))
        return (learningRate / correction1, 1 / correction2.squareRoot())
    }
}

public enum AdamW {
    /// One update of `count` parameters; `step` is 1 for the first update (bias correction).
    /// m and v are the first and second moment buffers; decay applies only when `decays` is true.
    public static func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                              m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
                              settings s: AdamWSettings, step: Int, decays: Bool) {
        let (stepSize, inverseRootCorrection2) = s.biasCorrection(step: step)
        let decayFactor = decays ? 1 - s.learningRate * s.weightDecay : 1
        ck_adamw_update(parameters, gradients, m, v, count, s.beta1, s.beta2, s.epsilon, stepSize,
                        inverseRootCorrection2, decayFactor)
    }

    /// Plain Swift version of `update` (same formula), the reference the C kernel is tested against.
    public static func referenceUpdate(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                                       m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
                                       settings s: AdamWSettings, step: Int, decays: Bool) {
        let (stepSize, inverseRootCorrection2) = s.biasCorrection(step: step)
        let decayFactor = decays ? 1 - s.learningRate * s.weightDecay : 1
        for i in 0..<count {
            let g = gradients[i]
            let mi = s.beta1 * m[i] + (1 - s.beta1) * g
            let vi = s.beta2 * v[i] + (1 - s.beta2) * g * g
            m[i] = mi
            v[i] = vi
            let denominator = vi.squareRoot() * inverseRootCorrection2 + s.epsilon
            parameters[i] = parameters[i] * decayFactor - stepSize * mi / denominator
        }
    }
}

extension Double {
    /// self^n for a non-negative integer n (exact repeated squaring; no libm needed).
    func power(_ n: Int) -> Double {
        var result = 1.0, base = self, e = n
        while e > 0 {
            if e & 1 == 1 { result *= base }
            base *= base
            e >>= 1
        }
        return result
    }
}

/// Adam with coupled L2 weight decay (torch.optim.Adam's `weight_decay`): g' = g + wd·p, then the
/// bias-corrected Adam step on g'. The loop is in C (`ck_adam_update`); `referenceUpdate` is its twin.
public enum Adam {
    public static func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                              m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
                              settings s: AdamWSettings, step: Int, decays: Bool) {
        let (stepSize, inverseRootCorrection2) = s.biasCorrection(step: step)
        ck_adam_update(parameters, gradients, m, v, count, s.beta1, s.beta2, s.epsilon, stepSize,
                       inverseRootCorrection2, decays ? s.weightDecay : 0)
    }

    public static func referenceUpdate(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                                       m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
                                       settings s: AdamWSettings, step: Int, decays: Bool) {
        let (stepSize, inverseRootCorrection2) = s.biasCorrection(step: step)
        let l2 = decays ? s.weightDecay : 0
        for i in 0..<count {
            let g = gradients[i] + l2 * parameters[i]
            let mi = s.beta1 * m[i] + (1 - s.beta1) * g
            let vi = s.beta2 * v[i] + (1 - s.beta2) * g * g
            m[i] = mi
            v[i] = vi
            parameters[i] = parameters[i] - stepSize * mi / (vi.squareRoot() * inverseRootCorrection2 + s.epsilon)
        }
    }
}
