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
    /// Activation bytes one evaluation pass may use when the requested batch is larger (results do not depend on it).
    public static let batchByteCap = 512.0 * 1024 * 1024

    /// Evaluates `model` on `tokens` cut into ⌊(n−1)/T⌋ non-overlapping windows of T = contextLength
    /// (each predicting its next T tokens), `batchSize` windows per forward pass.
    public static func evaluate(model: GPTModel, tokens: [Int32], contextLength: Int? = nil,
                                batchSize: Int = 16, budget: ResourceBudget = .current()) throws -> EvaluationResult {
        let T = contextLength ?? model.config.contextLength
        guard T >= 1, T <= model.config.contextLength else {
            throw WhittleError.config("the evaluation context (\(T) tokens) must be within 1...\(model.config.contextLength), the model's number of positions (n_positions)",
                                      hint: "a GPT-2 model has no position embedding past n_positions; use --context \(model.config.contextLength) or less")
        }
        let windowCount = tokens.count > 0 ? (tokens.count - 1) / T : 0
        guard windowCount >= 1 else {
            throw WhittleError.data("the evaluation text has \(tokens.count) tokens; at least \(T + 1) are needed for one window of \(T)",
                                    hint: "use a longer text or a smaller context")
        }
        // The batch only changes speed, never the result: beyond `batchByteCap` of activations it buys nothing,
        // so a huge --batch-size is clamped there instead of allocating gigabytes.
        let perWindow = model.config.approximateActivationBytes(batchSize: 1, contextLength: T)
        let batchSize = max(1, min(batchSize, windowCount, Int(min(Double(Int.max), batchByteCap / perWindow))))
        try budget.check(
            model.config.approximateActivationBytes(batchSize: batchSize, contextLength: T),
            for: "evaluating \(batchSize) windows of \(T) tokens per pass",
            fix: "lower --batch-size (16 is plenty; it only changes speed, not the result)")
        let start = DispatchTime.now().uptimeNanoseconds
        var windowLosses: [Double] = []
        windowLosses.reserveCapacity(windowCount)
        var correct = 0
        var arena: ActivationArena? = nil
        let weights = model.weights
        var window = 0
        while window < windowCount {
            let B = min(batchSize, windowCount - window)
            if arena?.B != B { arena = ActivationArena(dimensions: model.config.dimensions, B: B, T: T) }
            let a = arena!
            for b in 0..<B {
                let offset = (window + b) * T
                for t in 0..<T {
                    a.tokens[b * T + t] = tokens[offset + t]
                    a.targets[b * T + t] = tokens[offset + t + 1]
                }
            }
            GPT.forward(weights: weights, arena: a, withTargets: true)
            let V = model.config.vocabularySize
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
