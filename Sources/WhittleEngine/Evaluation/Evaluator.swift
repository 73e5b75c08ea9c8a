// Held-out evaluation over a whole token sequence in non-overlapping context windows: the
// figure `whittle eval` reports and the comparison (`Comparison.swift`) builds on. It runs any
// `ModelWeights` (fp32, 16-bit, block-quantized, pruned shapes) through the one forward pass.

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

    public init(loss: Double, standardError: Double, perplexity: Double, perplexityLow: Double, perplexityHigh: Double,
                accuracy: Double, tokens: Int, windows: Int, seconds: Double) {
        self.loss = loss
        self.standardError = standardError
        self.perplexity = perplexity
        self.perplexityLow = perplexityLow
        self.perplexityHigh = perplexityHigh
        self.accuracy = accuracy
        self.tokens = tokens
        self.windows = windows
        self.seconds = seconds
    }

    /// The result for per-window mean losses (every window the same length) and a count of correct top-1 guesses.
    public init(windowLosses: [Double], correct: Int, tokens: Int, seconds: Double) {
        let (mean, standardError) = Evaluator.meanAndStandardError(windowLosses)
        loss = mean
        self.standardError = standardError
        perplexity = exp(mean)
        perplexityLow = exp(mean - 1.96 * standardError)
        perplexityHigh = exp(mean + 1.96 * standardError)
        accuracy = tokens > 0 ? Double(correct) / Double(tokens) : 0
        self.tokens = tokens
        windows = windowLosses.count
        self.seconds = seconds
    }
}

/// A token sequence cut into ⌊(n−1)/T⌋ non-overlapping windows of T tokens, each predicting its next T.
public struct EvaluationWindows: Sendable {
    public let tokens: [Int32]
    public let contextLength: Int
    public let count: Int

    /// Checks the context against every model's number of positions and that one window fits.
    public init(tokens: [Int32], contextLength T: Int, maximumContext: Int) throws {
        guard T >= 1, T <= maximumContext else {
            throw WhittleError.config("the evaluation context (\(T) tokens) must be within 1...\(maximumContext), the model's number of positions (n_positions)",
                                      hint: "a GPT-2 model has no position embedding past n_positions; use --context \(maximumContext) or less")
        }
        let count = tokens.count > 0 ? (tokens.count - 1) / T : 0
        guard count >= 1 else {
            throw WhittleError.data("the evaluation text has \(tokens.count) tokens; at least \(T + 1) are needed for one window of \(T)",
                                    hint: "use a longer text or a smaller context")
        }
        self.tokens = tokens
        contextLength = T
        self.count = count
    }

    /// Number of scored positions.
    public var scoredTokens: Int { count * contextLength }

    /// Fills `arena` (B windows of T) with windows `first ..< first + arena.B` and their targets.
    func fill(_ arena: ActivationArena, first: Int) {
        let T = contextLength
        for b in 0..<arena.B {
            let offset = (first + b) * T
            for t in 0..<T {
                arena.tokens[b * T + t] = tokens[offset + t]
                arena.targets[b * T + t] = tokens[offset + t + 1]
            }
        }
    }
}

public enum Evaluator {
    /// Activation bytes one evaluation pass may use when the requested batch is larger (results do not depend on it).
    public static let batchByteCap = 512.0 * 1024 * 1024

    /// Evaluates `model` (fp32 weights) on `tokens`; see `evaluate(weights:tokens:contextLength:batchSize:budget:)`.
    public static func evaluate(model: GPTModel, tokens: [Int32], contextLength: Int? = nil,
                                batchSize: Int = 16, budget: ResourceBudget = .current()) throws -> EvaluationResult {
        // `weights` points into the model's arena: keep the model alive while they are read.
        try withExtendedLifetime(model) {
            try evaluate(weights: model.weights, tokens: tokens, contextLength: contextLength, batchSize: batchSize,
                         budget: budget)
        }
    }

    /// Evaluates `weights` (any stored formats) on `tokens` cut into ⌊(n−1)/T⌋ non-overlapping windows of
    /// T = contextLength (default: the model's), `batchSize` windows per forward pass. Token ids must be
    /// below the weights' vocabulary size (the caller's tokenizer made them).
    public static func evaluate(weights: ModelWeights, tokens: [Int32], contextLength: Int? = nil,
                                batchSize requestedBatch: Int = 16, budget: ResourceBudget = .current()) throws -> EvaluationResult {
        let d = weights.dimensions
        let windows = try EvaluationWindows(tokens: tokens, contextLength: contextLength ?? d.maxT, maximumContext: d.maxT)
        try checkVocabulary(tokens, size: d.V)
        let batchSize = try batchWithinBudget(requestedBatch, dimensions: d, windows: windows, budget: budget)
        let start = DispatchTime.now().uptimeNanoseconds
        let T = windows.contextLength, V = d.V
        var windowLosses: [Double] = []
        windowLosses.reserveCapacity(windows.count)
        var correct = 0
        var arena: ActivationArena? = nil
        var window = 0
        while window < windows.count {
            let B = min(max(batchSize, 1), windows.count - window)
            if arena?.B != B { arena = ActivationArena(dimensions: d, B: B, T: T) }
            let a = arena!
            windows.fill(a, first: window)
            GPT.forward(weights: weights, arena: a, withTargets: true)
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
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return EvaluationResult(windowLosses: windowLosses, correct: correct, tokens: windows.scoredTokens, seconds: seconds)
    }

    /// Refuses token ids outside 0..<size (a text encoded with another model's tokenizer).
    /// The batch to use for a requested one: the batch only changes speed, never the result, so beyond
    /// `batchByteCap` of activations it is clamped there instead of allocating gigabytes; the clamped batch
    /// must still fit the memory budget. `models` arenas of these dimensions are alive at once (a comparison).
    static func batchWithinBudget(_ requested: Int, dimensions d: GPTDimensions, windows: EvaluationWindows,
                                  budget: ResourceBudget, models: Int = 1) throws -> Int {
        let T = windows.contextLength
        let perWindow = Double(models) * ModelConfig.approximateActivationBytes(d, batchSize: 1, contextLength: T)
        let batch = max(1, min(requested, windows.count, Int(min(Double(Int.max), batchByteCap / perWindow))))
        try budget.check(
            Double(models) * ModelConfig.approximateActivationBytes(d, batchSize: batch, contextLength: T),
            for: "evaluating \(batch) windows of \(T) tokens per pass",
            fix: "lower --batch-size (16 is plenty; it only changes speed, not the result)")
        return batch
    }

    static func checkVocabulary(_ tokens: [Int32], size: Int) throws {
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= size }) {
            throw WhittleError.data("token id \(bad) is outside the model's vocabulary of \(size)",
                                    hint: "encode the text with the model's own tokenizer")
        }
    }

    /// Mean of `values` and its standard error √(s²/n) with the sample variance s² (0 for fewer than two).
    public static func meanAndStandardError(_ values: [Double]) -> (mean: Double, standardError: Double) {
        guard !values.isEmpty else { return (0, 0) }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        guard values.count > 1 else { return (mean, 0) }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        return (mean, (variance / n).squareRoot())
    }

    static func argmax(_ values: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        for i in 1..<count where values[i] > values[best] { best = i }
        return best
    }
}
