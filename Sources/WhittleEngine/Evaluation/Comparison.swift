// A base model and its variants scored on the same windows, as `llama-perplexity --kl-divergence`
// does and more: each variant's own loss, its change against the base with an error bar from
// per-window differences, KL divergence of the variant from the base per token (mean, percentiles),
// top-token agreement and the change in the correct token's probability. Windows stream: per batch
// of windows the base runs once, then every variant, and only running sums, per-window means and
// the per-token KLD values (one Float per scored token and variant, for the percentiles) are kept.

import Foundation

/// KL divergence KL(base ‖ variant) per token, in nats, over every scored position.
public struct DivergenceStatistics: Equatable, Codable, Sendable {
    public var mean: Double
    /// Standard error of `mean` across windows (tokens inside a window are correlated).
    public var standardError: Double
    /// llama.cpp's error bar, √(var/(n−1)) over tokens, for cross-checking with its output.
    public var standardErrorPerToken: Double
    public var median: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double
    public var p999: Double
    public var maximum: Double
    public var minimum: Double

    enum CodingKeys: String, CodingKey {
        case mean, standardError = "stderr", standardErrorPerToken = "stderr_per_token", median, p90, p95, p99,
             p999 = "p99_9", maximum = "max", minimum = "min"
    }

    /// Statistics of per-token `values` (sorted here) whose per-window means are `windowMeans`.
    init(tokenValues values: [Float], windowMeans: [Double]) {
        let sorted = values.sorted()
        let (mean, standardError) = Evaluator.meanAndStandardError(windowMeans)
        self.mean = mean
        self.standardError = standardError
        let n = Double(sorted.count)
        var sum = 0.0, sumOfSquares = 0.0
        for v in sorted { sum += Double(v); sumOfSquares += Double(v) * Double(v) }
        let tokenMean = n > 0 ? sum / n : 0
        let variance = max(n > 0 ? sumOfSquares / n - tokenMean * tokenMean : 0, 0)
        standardErrorPerToken = n > 1 ? (variance / (n - 1)).squareRoot() : 0
        median = Comparator.percentile(sorted, 0.5)
        p90 = Comparator.percentile(sorted, 0.90)
        p95 = Comparator.percentile(sorted, 0.95)
        p99 = Comparator.percentile(sorted, 0.99)
        p999 = Comparator.percentile(sorted, 0.999)
        maximum = Double(sorted.last ?? 0)
        minimum = Double(sorted.first ?? 0)
    }
}

/// One variant against the base, on the base's windows.
public struct VariantComparison: Equatable, Codable, Sendable {
    /// The variant's own loss, perplexity and next-token accuracy.
    public var evaluation: EvaluationResult
    /// Mean loss change (variant − base) and its standard error from per-window differences.
    public var lossChange: Double
    public var lossChangeStandardError: Double
    /// Perplexity ratio exp(lossChange) with a 95% interval exp(lossChange ± 1.96·SE).
    public var perplexityRatio: Double
    public var perplexityRatioLow: Double
    public var perplexityRatioHigh: Double
    public var divergence: DivergenceStatistics
    /// Fraction of positions whose most likely token is the base's, ± standard error across windows.
    public var agreement: Double
    public var agreementStandardError: Double
    /// Mean of p_variant(correct token) − p_base(correct token), ± standard error across windows.
    public var probabilityChange: Double
    public var probabilityChangeStandardError: Double

    enum CodingKeys: String, CodingKey {
        case evaluation, lossChange = "loss_change", lossChangeStandardError = "loss_change_stderr",
             perplexityRatio = "perplexity_ratio", perplexityRatioLow = "perplexity_ratio_low",
             perplexityRatioHigh = "perplexity_ratio_high", divergence = "kld", agreement = "top1_agreement",
             agreementStandardError = "top1_agreement_stderr", probabilityChange = "correct_probability_change",
             probabilityChangeStandardError = "correct_probability_change_stderr"
    }
}

/// The base and every variant on the same windows.
public struct ComparisonResult: Equatable, Codable, Sendable {
    public var base: EvaluationResult
    public var variants: [VariantComparison]
    public var contextLength: Int
    public var windows: Int
    public var tokens: Int

    enum CodingKeys: String, CodingKey {
        case base, variants, contextLength = "context_length", windows, tokens
    }
}

public enum Comparator {
    /// Compares loaded models: the tokenizers must be identical (same text, same ids), else an `.invalidData` error.
    public static func compare(base: LoadedModel, variants: [LoadedModel], tokens: [Int32], contextLength: Int? = nil,
                               batchSize: Int = 16, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> ComparisonResult {
        try checkTokenizers(base: base, variants: variants)
        // The weights point into storage the loaded models own: keep them alive while they are read.
        return try withExtendedLifetime((base, variants)) {
            try compare(base: base.weights, variants: variants.map(\.weights), tokens: tokens,
                        contextLength: contextLength, batchSize: batchSize, progress: progress)
        }
    }

    /// Refuses variants whose tokenizer differs from the base's (`.invalidData`): their token ids mean other text.
    public static func checkTokenizers(base: LoadedModel, variants: [LoadedModel]) throws {
        for variant in variants where variant.tokenizer != base.tokenizer {
            let detail = variant.tokenizer.vocabularySize == base.tokenizer.vocabularySize
                ? "the same vocabulary size (\(base.tokenizer.vocabularySize)) but different symbols or ids"
                : "\(variant.tokenizer.vocabularySize) tokens against the base's \(base.tokenizer.vocabularySize)"
            throw WhittleError.data("\(variant.source) and the base \(base.source) have different tokenizers: \(detail)",
                                    hint: "compare only variants made from this base (same tokenizer.json or GGUF tokenizer)")
        }
    }

    /// Scores `base` and every variant on the same ⌊(n−1)/T⌋ windows of `tokens`; T defaults to the shortest
    /// context of all the models. Per batch of windows, the base runs once, then each variant.
    public static func compare(base: ModelWeights, variants: [ModelWeights], tokens: [Int32], contextLength: Int? = nil,
                               batchSize requestedBatch: Int = 16, budget: ResourceBudget = .current(),
                               progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> ComparisonResult {
        let V = base.dimensions.V
        for (i, variant) in variants.enumerated() where variant.dimensions.V != V {
            throw WhittleError.data("variant \(i + 1) has a vocabulary of \(variant.dimensions.V) tokens and the base \(V)",
                                    hint: "a variant must keep its base's vocabulary to be compared token by token")
        }
        let maximum = ([base] + variants).map(\.dimensions.maxT).min()!
        let windows = try EvaluationWindows(tokens: tokens, contextLength: contextLength ?? maximum, maximumContext: maximum)
        try Evaluator.checkVocabulary(tokens, size: V)
        // The widest model sizes every arena's prediction (one arena per model is alive at once).
        let widest = ([base] + variants).max { $0.dimensions.C < $1.dimensions.C }!.dimensions
        let batchSize = try Evaluator.batchWithinBudget(requestedBatch, dimensions: widest, windows: windows,
                                                        budget: budget, models: 1 + variants.count)
        let T = windows.contextLength
        let baseRun = ModelRun(weights: base)
        let runs = variants.map { ModelRun(weights: $0) }
        var stats = variants.map { _ in VariantAccumulator(capacity: windows.scoredTokens) }
        let baseLogProbabilities = UnsafeMutablePointer<Double>.allocate(capacity: V)
        defer { baseLogProbabilities.deallocate() }
        var window = 0
        while window < windows.count {
            let B = min(max(batchSize, 1), windows.count - window)
            let a = baseRun.run(windows, first: window, B: B)
            let arenas = runs.map { $0.run(windows, first: window, B: B) }
            for b in 0..<B {
                for s in stats.indices { stats[s].startWindow() }
                for t in 0..<T {
                    let n = b * T + t
                    let target = Int(a.targets[n])
                    let baseTop = logSoftmax(a.logits.pointer + n * V, count: V, into: baseLogProbabilities)
                    if baseTop == target { baseRun.correct += 1 }
                    baseRun.windowSum += Double(a.losses[n])
                    for (s, arena) in arenas.enumerated() {
                        let token = tokenStatistics(baseLogProbabilities: baseLogProbabilities,
                                                    variant: arena.logits.pointer + n * V, count: V, target: target)
                        stats[s].add(token, loss: Double(arena.losses[n]), baseTop: baseTop, target: target)
                    }
                }
                baseRun.windowLosses.append(baseRun.windowSum / Double(T))
                baseRun.windowSum = 0
                for s in stats.indices { stats[s].endWindow(T) }
            }
            window += B
            progress?(window, windows.count)
        }
        let baseResult = EvaluationResult(windowLosses: baseRun.windowLosses, correct: baseRun.correct,
                                          tokens: windows.scoredTokens, seconds: baseRun.seconds)
        let comparisons = stats.enumerated().map { s, accumulator in
            accumulator.result(base: baseRun.windowLosses, tokens: windows.scoredTokens, seconds: runs[s].seconds)
        }
        return ComparisonResult(base: baseResult, variants: comparisons, contextLength: T, windows: windows.count,
                                tokens: windows.scoredTokens)
    }

    /// What one position contributes: KL(base ‖ variant) = Σᵢ p_base(i)·(log p_base(i) − log p_variant(i)) in nats,
    /// the variant's most likely token (the first on ties), and p_variant(target) − p_base(target). The base's
    /// log-probabilities are given (computed once for all variants).
    public static func tokenStatistics(baseLogProbabilities lb: UnsafePointer<Double>, variant: UnsafePointer<Float>,
                                       count V: Int, target: Int) -> TokenStatistics {
        var maximum = variant[0], top = 0
        for i in 1..<V where variant[i] > maximum { maximum = variant[i]; top = i }
        var sum = 0.0
        for i in 0..<V { sum += exp(Double(variant[i]) - Double(maximum)) }
        let logZ = Double(maximum) + log(sum)
        var divergence = 0.0
        for i in 0..<V {
            let p = exp(lb[i])
            if p > 0 { divergence += p * (lb[i] - (Double(variant[i]) - logZ)) }
        }
        let change = exp(Double(variant[target]) - logZ) - exp(lb[target])
        return TokenStatistics(divergence: divergence, top: top, probabilityChange: change)
    }

    /// Writes log-softmax(`logits`) in Double into `out` and returns the index of the largest logit (the first on ties).
    public static func logSoftmax(_ logits: UnsafePointer<Float>, count V: Int, into out: UnsafeMutablePointer<Double>) -> Int {
        var maximum = logits[0], top = 0
        for i in 1..<V where logits[i] > maximum { maximum = logits[i]; top = i }
        var sum = 0.0
        for i in 0..<V { sum += exp(Double(logits[i]) - Double(maximum)) }
        let logZ = Double(maximum) + log(sum)
        for i in 0..<V { out[i] = Double(logits[i]) - logZ }
        return top
    }

    /// llama.cpp's percentile of sorted values: linear interpolation at fraction·(n − 1).
    public static func percentile(_ sorted: [Float], _ fraction: Double) -> Double {
        guard let first = sorted.first, let last = sorted.last else { return 0 }
        if fraction <= 0 { return Double(first) }
        if fraction >= 1 { return Double(last) }
        let position = fraction * Double(sorted.count - 1)
        let lower = Int(position)
        let weight = position - Double(lower)
        let upper = min(lower + 1, sorted.count - 1)
        return (1 - weight) * Double(sorted[lower]) + weight * Double(sorted[upper])
    }
}

/// What one scored position contributes to a comparison.
public struct TokenStatistics: Equatable, Sendable {
    /// KL(base ‖ variant) in nats.
    public var divergence: Double
    /// The variant's most likely token.
    public var top: Int
    /// p_variant(correct) − p_base(correct).
    public var probabilityChange: Double
}

/// One model's arena (rebuilt when the batch size changes), its running loss sums and its forward time.
private final class ModelRun {
    let weights: ModelWeights
    var arena: ActivationArena?
    var seconds = 0.0
    var windowLosses: [Double] = []
    var windowSum = 0.0
    var correct = 0

    init(weights: ModelWeights) { self.weights = weights }

    func run(_ windows: EvaluationWindows, first: Int, B: Int) -> ActivationArena {
        if arena?.B != B { arena = ActivationArena(dimensions: weights.dimensions, B: B, T: windows.contextLength) }
        let a = arena!
        windows.fill(a, first: first)
        let start = DispatchTime.now().uptimeNanoseconds
        GPT.forward(weights: weights, arena: a, withTargets: true)
        seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return a
    }
}

/// A variant's running statistics: per-window means and the per-token divergences.
private struct VariantAccumulator {
    var tokenDivergences: [Float] = []
    var windowLosses: [Double] = []
    var windowDivergences: [Double] = []
    var windowAgreements: [Double] = []
    var windowProbabilityChanges: [Double] = []
    var correct = 0
    private var loss = 0.0, divergence = 0.0, agreements = 0, probabilityChange = 0.0

    init(capacity: Int) { tokenDivergences.reserveCapacity(capacity) }

    mutating func startWindow() {
        loss = 0; divergence = 0; agreements = 0; probabilityChange = 0
    }

    mutating func add(_ token: TokenStatistics, loss tokenLoss: Double, baseTop: Int, target: Int) {
        tokenDivergences.append(Float(token.divergence))
        loss += tokenLoss
        divergence += token.divergence
        probabilityChange += token.probabilityChange
        if token.top == baseTop { agreements += 1 }
        if token.top == target { correct += 1 }
    }

    mutating func endWindow(_ T: Int) {
        let n = Double(T)
        windowLosses.append(loss / n)
        windowDivergences.append(divergence / n)
        windowAgreements.append(Double(agreements) / n)
        windowProbabilityChanges.append(probabilityChange / n)
    }

    func result(base: [Double], tokens: Int, seconds: Double) -> VariantComparison {
        let evaluation = EvaluationResult(windowLosses: windowLosses, correct: correct, tokens: tokens, seconds: seconds)
        let (change, changeError) = Evaluator.meanAndStandardError(zip(windowLosses, base).map { $0 - $1 })
        let (agreement, agreementError) = Evaluator.meanAndStandardError(windowAgreements)
        let (probability, probabilityError) = Evaluator.meanAndStandardError(windowProbabilityChanges)
        return VariantComparison(evaluation: evaluation, lossChange: change, lossChangeStandardError: changeError,
                                 perplexityRatio: exp(change), perplexityRatioLow: exp(change - 1.96 * changeError),
                                 perplexityRatioHigh: exp(change + 1.96 * changeError),
                                 divergence: DivergenceStatistics(tokenValues: tokenDivergences, windowMeans: windowDivergences),
                                 agreement: agreement, agreementStandardError: agreementError,
                                 probabilityChange: probability, probabilityChangeStandardError: probabilityError)
    }
}
