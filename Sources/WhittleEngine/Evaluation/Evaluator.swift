// Held-out evaluation over a whole token sequence in non-overlapping context windows: the
// figure `whittle eval` reports and the comparison view builds on.

import Foundation

/// What an evaluation over a token sequence measured.
public struct EvaluationResult: Equatable, Codable, Sendable {
    /// Mean cross-entropy per token (nats).
    public var loss: Double
    /// Standard error of `loss`, computed across windows (tokens inside a window are correlated).
    public var standardError: Double
    /// exp(loss), with a 95% interval exp(loss ± 1.96·standardError).
    public var perplexity: Double
    public var perplexityLow: Double
    public var perplexityHigh: Double
    /// Fraction of positions whose most likely next token is the true one.
    public var accuracy: Double
    public var tokens: Int
    public var windows: Int
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case loss, standardError = "loss_stderr", perplexity, perplexityLow = "perplexity_low",
             perplexityHigh = "perplexity_high", accuracy, tokens, windows, seconds
    }
}

public enum Evaluator {
    /// Evaluates `model` on `tokens` cut into ⌊(n−1)/T⌋ non-overlapping windows of T = contextLength
    /// (each predicting its next T tokens), `batchSize` windows per forward pass.
    public static func evaluate(model: GPTModel, tokens: [Int32], contextLength: Int? = nil,
                                batchSize: Int = 16) throws -> EvaluationResult {
        try withExtendedLifetime(model) {
            try evaluate(weights: model.weights, tokens: tokens, contextLength: contextLength, batchSize: batchSize)
        }
    }

    /// Evaluates a model's `weights` in any stored formats (a `LoadedModel`'s, a variant's) the same way.
    public static func evaluate(weights: ModelWeights, tokens: [Int32], contextLength: Int? = nil,
                                batchSize: Int = 16) throws -> EvaluationResult {
        let dimensions = weights.dimensions
        let T = contextLength ?? dimensions.maxT
        guard T >= 1, T <= dimensions.maxT else {
            throw WhittleError.config("the evaluation context (\(T) tokens) must be within 1...\(dimensions.maxT), the model's number of positions (n_positions)",
                                      hint: "a GPT-2 model has no position embedding past n_positions; use --context \(dimensions.maxT) or less")
        }
        let windowCount = tokens.count > 0 ? (tokens.count - 1) / T : 0
        guard windowCount >= 1 else {
            throw WhittleError.data("the evaluation text has \(tokens.count) tokens; at least \(T + 1) are needed for one window of \(T)",
                                    hint: "use a longer text or a smaller context")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var windowLosses: [Double] = []
        windowLosses.reserveCapacity(windowCount)
        var correct = 0
        var arena: ActivationArena? = nil
        var window = 0
        while window < windowCount {
            let B = min(batchSize, windowCount - window)
            if arena?.B != B { arena = ActivationArena(dimensions: dimensions, B: B, T: T) }
            let a = arena!
            for b in 0..<B {
                let offset = (window + b) * T
                for t in 0..<T {
                    a.tokens[b * T + t] = tokens[offset + t]
                    a.targets[b * T + t] = tokens[offset + t + 1]
                }
            }
            GPT.forward(weights: weights, arena: a, withTargets: true)
            let V = dimensions.V
            for b in 0..<B {
                var sum: Double = 0
                for t in 0..<T {
                    let n = b * T + t
                    sum += Double(a.losses[n])
                    if argmax(a.logits.pointer + n * V, count: V) == Int(a.targets[n]) { correct += 1 }
                }
                windowLosses.append(sum / Double(T))
            }
            window += B
        }
        let n = Double(windowLosses.count)
        let mean = windowLosses.reduce(0, +) / n
        let variance = windowLosses.count > 1 ? windowLosses.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
        let standardError = (variance / n).squareRoot()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return EvaluationResult(loss: mean, standardError: standardError, perplexity: exp(mean),
                                perplexityLow: exp(mean - 1.96 * standardError),
                                perplexityHigh: exp(mean + 1.96 * standardError),
                                accuracy: Double(correct) / Double(windowCount * T), tokens: windowCount * T,
                                windows: windowCount, seconds: seconds)
    }

    static func argmax(_ values: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        for i in 1..<count where values[i] > values[best] { best = i }
        return best
    }
}
