// Text generation: KV-cached decoding with temperature and top-k sampling, and honest timing of
// prefill (tokens/s) and decode (ms/token).

import Foundation

/// Sampling settings for generation.
public struct SamplingSettings: Equatable, Sendable {
    public var temperature: Float = 0.8
    public var topK: Int? = 200
    public var seed: UInt64 = 1337

    public init(temperature: Float = 0.8, topK: Int? = 200, seed: UInt64 = 1337) {
        self.temperature = temperature
        self.topK = topK
        self.seed = seed
    }

    func validate() throws {
        guard temperature.isFinite, temperature >= 0 else {
            throw WhittleError.config("temperature must be a finite number ≥ 0 (got \(temperature))",
                                      hint: "0 picks the most likely token; 0.8 is a common choice")
        }
        if let topK, topK < 1 {
            throw WhittleError.config("top-k must be at least 1 (got \(topK))")
        }
    }
}

/// Timing of one generation.
public struct GenerationStats: Equatable, Codable, Sendable {
    public var promptTokens: Int
    public var generatedTokens: Int
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    /// Decode steps that had to recompute the window because the context was full.
    public var windowRecomputes: Int

    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
    public var decodeMillisecondsPerToken: Double {
        generatedTokens > 0 ? decodeSeconds * 1000 / Double(generatedTokens) : 0
    }
}

public enum Generator {
    /// Refuses token counts whose output or time would not be reasonable: the token arrays against the
    /// memory budget, and the decode FLOPs (2 × parameters per token, a whole context window once the
    /// output passes the context length) against `ResourceBudget.longRunSeconds`.
    public static func checkBudget(weights: ModelWeights, count: Int, budget: ResourceBudget = .current()) throws {
        let fix = "ask for fewer tokens (--tokens), or generate in several calls"
        try budget.check(Double(count) * 16, for: "generating \(count) tokens", fix: fix)
        let parameters = Double(weights.layout.totalCount), maxT = weights.dimensions.maxT
        let overflow = Double(max(0, count - maxT))
        let flops = 2 * parameters * Double(count) + 2 * parameters * Double(maxT) * overflow
        let seconds = ResourceBudget.estimatedSeconds(flops: flops, threads: 1)
        guard seconds <= ResourceBudget.longRunSeconds else {
            throw WhittleError.config("generating \(count) tokens would take about \(ResourceBudget.formatSeconds(seconds)) (a FLOP estimate at an assumed \(Int(ResourceBudget.assumedFlopsPerThread / 1e9)) GFLOP/s)",
                                      hint: fix)
        }
    }

    /// Generates `count` tokens after `prompt`, calling `onToken` with each new token as it is sampled.
    /// Beyond the context length the model conditions on the last `block_size` tokens (as nanoGPT does),
    /// recomputing that window for each further token.
    public static func generate(model: GPTModel, prompt: [Int32], count: Int, settings: SamplingSettings,
                                budget: ResourceBudget = .current(),
                                onToken: (Int32) -> Void = { _ in }) throws -> (tokens: [Int32], stats: GenerationStats) {
        try withExtendedLifetime(model) {
            try generate(weights: model.weights, prompt: prompt, count: count, settings: settings, budget: budget,
                         onToken: onToken)
        }
    }

    /// Generates from a model's `weights` in any stored formats (a `LoadedModel`'s, a variant's) the same way.
    public static func generate(weights: ModelWeights, prompt: [Int32], count: Int, settings: SamplingSettings,
                                budget: ResourceBudget = .current(),
                                onToken: (Int32) -> Void = { _ in }) throws -> (tokens: [Int32], stats: GenerationStats) {
        try settings.validate()
        guard !prompt.isEmpty else {
            throw WhittleError.data("the prompt is empty", hint: "give at least one character, e.g. --prompt \"\\n\"")
        }
        guard count >= 0 else { throw WhittleError.config("the number of tokens must be ≥ 0 (got \(count))") }
        let maxT = weights.dimensions.maxT
        try checkBudget(weights: weights, count: count, budget: budget)
        let decoder = GPTDecoder(weights: weights)
        var generator = RandomGenerator(seed: settings.seed)
        var sequence = prompt
        let window = Array(prompt.suffix(maxT))
        var clock = DispatchTime.now().uptimeNanoseconds
        decoder.prefill(window)
        let prefillSeconds = Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9
        var output: [Int32] = []
        var recomputes = 0
        clock = DispatchTime.now().uptimeNanoseconds
        for index in 0..<count {
            let next = sample(decoder.logits, settings: settings, generator: &generator)
            output.append(next)
            sequence.append(next)
            onToken(next)
            if index == count - 1 { break }
            if decoder.length < maxT {
                decoder.decode(next)
            } else {
                decoder.prefill(Array(sequence.suffix(maxT)))
                recomputes += 1
            }
        }
        let decodeSeconds = Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9
        return (output, GenerationStats(promptTokens: window.count, generatedTokens: output.count,
                                        prefillSeconds: prefillSeconds, decodeSeconds: decodeSeconds,
                                        windowRecomputes: recomputes))
    }

    /// Samples from softmax(logits / temperature) restricted to the top-k logits; temperature 0 is greedy.
    static func sample(_ logits: FloatBuffer, settings: SamplingSettings, generator: inout RandomGenerator) -> Int32 {
        let V = logits.count
        if settings.temperature == 0 { return Int32(Evaluator.argmax(logits.pointer, count: V)) }
        var candidates = Array(0..<V)
        if let k = settings.topK, k < V {
            candidates.sort { logits[$0] > logits[$1] }
            candidates = Array(candidates.prefix(k))
        }
        let maximum = candidates.map { logits[$0] }.max()!
        let weights = candidates.map { Double(exp((logits[$0] - maximum) / settings.temperature)) }
        let total = weights.reduce(0, +)
        var threshold = Double(generator.nextUniform()) * total
        for (i, weight) in weights.enumerated() {
            threshold -= weight
            if threshold < 0 { return Int32(candidates[i]) }
        }
        return Int32(candidates.last!)
    }
}
