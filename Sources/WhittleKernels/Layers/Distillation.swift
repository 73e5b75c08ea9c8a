// The loss head of knowledge distillation (Hinton et al. 2015, "Distilling the Knowledge in a Neural
// Network"): per token, alpha · T² · KL(teacher_T ‖ student_T) + (1 − alpha) · CE, or with the reverse
// KL(student_T ‖ teacher_T) (MiniLLM, Gu et al. 2023), where x_T = softmax(logits / T). It runs after
// `CrossEntropy.forward` (whose probabilities and losses it reuses) and writes the gradient of the
// scaled mean loss into the logits buffer, which `GPT.backward(lossHead: .given)` then reads.
// Each row's softmaxes and sums are computed in Double: KL of two close distributions is a small
// difference of large terms. `DistillationReference` is the plain all-Double twin tests compare with.

import Foundation

/// Which KL divergence distillation minimises.
public enum DistillationDirection: String, CaseIterable, Equatable, Sendable, Codable {
    /// KL(teacher ‖ student): the student covers every mode of the teacher (Hinton et al.).
    case forwardKL = "forward_kl"
    /// KL(student ‖ teacher): mode-seeking (MiniLLM).
    case reverseKL = "reverse_kl"
}

/// The weights of the distillation loss.
public struct DistillationWeights: Equatable, Sendable {
    /// Weight of the KL term in [0, 1]; the cross-entropy term has 1 − alpha.
    public var alpha: Float
    /// Softmax temperature T > 0 of both distributions in the KL term (CE stays at T = 1).
    public var temperature: Float
    public var direction: DistillationDirection

    public init(alpha: Float, temperature: Float, direction: DistillationDirection) {
        self.alpha = alpha
        self.temperature = temperature
        self.direction = direction
    }
}

/// Sums of the per-token terms over the rows a call processed (means are sum / N).
public struct DistillationTerms: Equatable, Sendable {
    /// Σ KL at temperature T (unscaled by T²), in nats.
    public var divergence: Double = 0
    /// Σ cross-entropy against the data's next token, in nats.
    public var crossEntropy: Double = 0

    public init(divergence: Double = 0, crossEntropy: Double = 0) {
        self.divergence = divergence
        self.crossEntropy = crossEntropy
    }

    /// The objective alpha · T² · KL + (1 − alpha) · CE of these sums.
    public func objective(_ w: DistillationWeights) -> Double {
        let t = Double(w.temperature), a = Double(w.alpha)
        return a * t * t * divergence + (1 - a) * crossEntropy
    }
}

public enum Distillation {
    /// Overwrites `logits` (the student's, [N, V]) with d(scale · mean objective)/dlogits and returns the
    /// sums of the terms. `probs` and `losses` are `CrossEntropy.forward`'s (softmax at T = 1 and CE per
    /// row); `teacher` holds the teacher's logits [N, V]; `scratch` has room for 2·V Doubles.
    /// The cross-entropy part is formed exactly as `CrossEntropy.backward` forms it (p·s, then −s at the
    /// target, s = scale·(1 − alpha)/N) and the KL part is added to it, so alpha = 0 gives its bits.
    public static func lossAndGradient(logits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>,
                                       losses: UnsafePointer<Float>, teacher: UnsafePointer<Float>,
                                       targets: UnsafePointer<Int32>, N: Int, V: Int, weights w: DistillationWeights,
                                       scale: Float, scratch: UnsafeMutablePointer<Double>) -> DistillationTerms {
        let tau = Double(w.temperature)
        let ceScale = scale * (1 - w.alpha) / Float(N)
        // d(T²·KL)/dz = T · (q − p) forward, T · q · (log q − log p − KL) reverse.
        let klScale = Double(scale) * Double(w.alpha) / Double(N) * tau
        let logP = scratch, logQ = scratch + V
        var terms = DistillationTerms()
        for n in 0..<N {
            let z = logits + n * V, u = teacher + n * V, d = logits + n * V
            logSoftmax(u, temperature: tau, into: logP, count: V)
            logSoftmax(UnsafePointer(z), temperature: tau, into: logQ, count: V)
            var kl = 0.0
            switch w.direction {
            case .forwardKL: for i in 0..<V { kl += exp(logP[i]) * (logP[i] - logQ[i]) }
            case .reverseKL: for i in 0..<V { kl += exp(logQ[i]) * (logQ[i] - logP[i]) }
            }
            terms.divergence += kl
            terms.crossEntropy += Double(losses[n])
            let p = probs + n * V
            for i in 0..<V { d[i] = p[i] * ceScale }
            d[Int(targets[n])] -= ceScale
            for i in 0..<V {
                let q = exp(logQ[i])
                let g: Double
                switch w.direction {
                case .forwardKL: g = q - exp(logP[i])
                case .reverseKL: g = q * (logQ[i] - logP[i] - kl)
                }
                d[i] += Float(klScale * g)
            }
        }
        return terms
    }

    /// log softmax(x / temperature) of one row, in Double.
    static func logSoftmax(_ x: UnsafePointer<Float>, temperature: Double, into out: UnsafeMutablePointer<Double>, count: Int) {
        var maximum = -Double.infinity
        for i in 0..<count { maximum = max(maximum, Double(x[i]) / temperature) }
        var sum = 0.0
        for i in 0..<count { sum += exp(Double(x[i]) / temperature - maximum) }
        let logSum = maximum + log(sum)
        for i in 0..<count { out[i] = Double(x[i]) / temperature - logSum }
    }

    /// Adds to `gradient` ([N, C]) d(scale · weight · mean(1 − cos(student_n, teacher_n)))/dstudent and
    /// returns Σ (1 − cos) over the rows: the hidden-state cosine term (DistilBERT's L_cos).
    public static func cosineLossAndGradient(gradient: UnsafeMutablePointer<Float>, student: UnsafePointer<Float>,
                                             teacher: UnsafePointer<Float>, N: Int, C: Int, weight: Float,
                                             scale: Float) -> Double {
        let factor = Double(scale) * Double(weight) / Double(N)
        var total = 0.0
        for n in 0..<N {
            let s = student + n * C, t = teacher + n * C, g = gradient + n * C
            var st = 0.0, ss = 0.0, tt = 0.0
            for i in 0..<C {
                st += Double(s[i]) * Double(t[i])
                ss += Double(s[i]) * Double(s[i])
                tt += Double(t[i]) * Double(t[i])
            }
            let sNorm = max(ss.squareRoot(), 1e-12), tNorm = max(tt.squareRoot(), 1e-12)
            let cosine = st / (sNorm * tNorm)
            total += 1 - cosine
            // d(1 − cos)/ds = −(t / (|s||t|) − cos · s / |s|²)
            for i in 0..<C {
                let derivative = -(Double(t[i]) / (sNorm * tNorm) - cosine * Double(s[i]) / (sNorm * sNorm))
                g[i] += Float(factor * derivative)
            }
        }
        return total
    }
}

/// The distillation loss computed directly in Double, for tests: the objective's mean and its gradient.
public enum DistillationReference {
    /// Mean over rows of alpha·T²·KL + (1 − alpha)·CE for student logits `z`, teacher logits `u` ([N·V]).
    public static func loss(student z: [Double], teacher u: [Double], targets: [Int], V: Int, weights w: DistillationWeights) -> Double {
        let N = targets.count, tau = Double(w.temperature), a = Double(w.alpha)
        var total = 0.0
        for n in 0..<N {
            let row = Array(z[n * V..<(n + 1) * V]), teacherRow = Array(u[n * V..<(n + 1) * V])
            let logP = logSoftmax(teacherRow.map { $0 / tau }), logQ = logSoftmax(row.map { $0 / tau })
            let ce = -logSoftmax(row)[targets[n]]
            var kl = 0.0
            for i in 0..<V {
                switch w.direction {
                case .forwardKL: kl += exp(logP[i]) * (logP[i] - logQ[i])
                case .reverseKL: kl += exp(logQ[i]) * (logQ[i] - logP[i])
                }
            }
            total += a * tau * tau * kl + (1 - a) * ce
        }
        return total / Double(N)
    }

    /// d loss / d z, from the closed forms written out term by term.
    public static func gradient(student z: [Double], teacher u: [Double], targets: [Int], V: Int, weights w: DistillationWeights) -> [Double] {
        let N = targets.count, tau = Double(w.temperature), a = Double(w.alpha)
        var grad = [Double](repeating: 0, count: z.count)
        for n in 0..<N {
            let row = Array(z[n * V..<(n + 1) * V]), teacherRow = Array(u[n * V..<(n + 1) * V])
            let logP = logSoftmax(teacherRow.map { $0 / tau }), logQ = logSoftmax(row.map { $0 / tau })
            let probabilities = logSoftmax(row).map { exp($0) }
            var reverse = 0.0
            for i in 0..<V { reverse += exp(logQ[i]) * (logQ[i] - logP[i]) }
            for i in 0..<V {
                let ce = probabilities[i] - (i == targets[n] ? 1 : 0)
                let q = exp(logQ[i]), p = exp(logP[i])
                // d(KL)/dz_i carries 1/T; times T² leaves T.
                let kl = w.direction == .forwardKL ? (q - p) / tau : q * (logQ[i] - logP[i] - reverse) / tau
                grad[n * V + i] = (a * tau * tau * kl + (1 - a) * ce) / Double(N)
            }
        }
        return grad
    }

    /// Mean over rows of 1 − cos(s_n, t_n).
    public static func cosineLoss(student s: [Double], teacher t: [Double], C: Int) -> Double {
        let N = s.count / C
        var total = 0.0
        for n in 0..<N {
            var st = 0.0, ss = 0.0, tt = 0.0
            for i in 0..<C {
                st += s[n * C + i] * t[n * C + i]
                ss += s[n * C + i] * s[n * C + i]
                tt += t[n * C + i] * t[n * C + i]
            }
            total += 1 - st / (ss.squareRoot() * tt.squareRoot())
        }
        return total / Double(N)
    }

    static func logSoftmax(_ x: [Double]) -> [Double] {
        let m = x.max()!
        let logSum = m + log(x.reduce(0) { $0 + exp($1 - m) })
        return x.map { $0 - logSum }
    }
}
