// The comparison against a base (Comparator) checked against a direct computation in Double from
// the two models' logits: KL(base ‖ variant) per token and its percentiles, top-token agreement,
// Δp, the loss change and its per-window error bar; identical models give exactly zero; the tiny
// sample model against a Q8_0 GGUF of itself gives a small positive KLD and high agreement.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct ComparisonTests {
    static let config = ModelConfig(layerCount: 2, headCount: 2, embeddingWidth: 32, contextLength: 8, vocabularySize: 11)

    static func model(seed: UInt64) throws -> GPTModel {
        var generator = RandomGenerator(seed: seed)
        let model = try GPTModel.initialized(config: config, generator: &generator)
        // Larger weights than GPT-2's initialisation, so the two models' distributions really differ.
        for i in 0..<model.parameterCount { model.parameters[i] *= 8 }
        return model
    }

    static let tokens: [Int32] = (0..<61).map { Int32(($0 * 7 + $0 / 3) % 11) }

    /// Every window's logits, [window][position][vocabulary], computed in batches of `batch` windows as the
    /// comparison runs them (the products' rounding depends on the batch shape).
    func logits(_ weights: ModelWeights, windows: Int, T: Int, batch: Int) -> [[[Float]]] {
        var out: [[[Float]]] = []
        var first = 0
        while first < windows {
            let B = min(batch, windows - first)
            let arena = ActivationArena(dimensions: weights.dimensions, B: B, T: T)
            for i in 0..<(B * T) { arena.tokens[i] = Self.tokens[first * T + i] }
            GPT.forward(weights: weights, arena: arena, withTargets: false)
            let all = arena.logits.array
            for b in 0..<B {
                out.append((0..<T).map { t in Array(all[((b * T + t) * 11)..<((b * T + t + 1) * 11)]) })
            }
            first += B
        }
        return out
    }

    func logSoftmax(_ x: [Float]) -> [Double] {
        let m = Double(x.max()!)
        let z = m + log(x.reduce(0.0) { $0 + exp(Double($1) - m) })
        return x.map { Double($0) - z }
    }

    func argmax(_ x: [Float]) -> Int { x.indices.max { x[$0] < x[$1] || (x[$0] == x[$1] && $0 > $1) }! }

    @Test func testCompare_matchesDirectDoubleComputation() throws {
        let base = try Self.model(seed: 1), variant = try Self.model(seed: 2)
        let result = try Comparator.compare(base: base.weights, variants: [variant.weights], tokens: Self.tokens, batchSize: 3)
        let T = 8, windows = (Self.tokens.count - 1) / T
        #expect(result.windows == windows && result.tokens == windows * T && result.contextLength == T)
        let lb = logits(base.weights, windows: windows, T: T, batch: 3), lv = logits(variant.weights, windows: windows, T: T, batch: 3)
        var klds: [Double] = [], windowKLD: [Double] = [], windowDelta: [Double] = [], windowAgree: [Double] = []
        var windowBase: [Double] = []
        var agreements = 0, dp = 0.0, correct = 0
        for w in 0..<windows {
            var kSum = 0.0, lossB = 0.0, lossV = 0.0, agree = 0.0
            for t in 0..<T {
                let target = Int(Self.tokens[w * T + t + 1])
                let pb = logSoftmax(lb[w][t]), pv = logSoftmax(lv[w][t])
                let k = zip(pb, pv).reduce(0.0) { $0 + exp($1.0) * ($1.0 - $1.1) }
                klds.append(k)
                kSum += k
                lossB -= pb[target]
                lossV -= pv[target]
                if argmax(lb[w][t]) == argmax(lv[w][t]) { agreements += 1; agree += 1 }
                if argmax(lv[w][t]) == target { correct += 1 }
                dp += exp(pv[target]) - exp(pb[target])
            }
            windowKLD.append(kSum / Double(T))
            windowDelta.append((lossV - lossB) / Double(T))
            windowAgree.append(agree / Double(T))
            windowBase.append(lossB / Double(T))
        }
        let n = Double(klds.count)
        let v = result.variants[0], k = v.divergence
        #expect(abs(k.mean - klds.reduce(0, +) / n) < 1e-9)
        #expect(k.mean > 0.05, "the two random models should disagree: \(k.mean)")
        let sorted = klds.sorted()
        func percentile(_ f: Double) -> Double {
            let p = f * Double(sorted.count - 1), i = Int(p), w = p - Double(i)
            return (1 - w) * sorted[i] + w * sorted[min(i + 1, sorted.count - 1)]
        }
        // Per-token values are kept as Float: percentiles agree to Float precision.
        for (got, f) in [(k.median, 0.5), (k.p90, 0.9), (k.p95, 0.95), (k.p99, 0.99), (k.p999, 0.999)] {
            #expect(abs(got - percentile(f)) <= 1e-6 * max(1, abs(got)), "percentile \(f): \(got) vs \(percentile(f))")
        }
        #expect(abs(k.maximum - sorted.last!) <= 1e-6 * sorted.last! && abs(k.minimum - sorted.first!) <= 1e-6)
        #expect(abs(v.agreement - Double(agreements) / n) < 1e-12)
        #expect(abs(v.probabilityChange - dp / n) < 1e-9)
        #expect(abs(v.evaluation.accuracy - Double(correct) / n) < 1e-12)
        // Losses come from the fp32 cross-entropy kernel: equal to the Double ones to float rounding.
        #expect(abs(result.base.loss - windowBase.reduce(0, +) / Double(windows)) < 1e-5)
        let (delta, deltaError) = standardError(windowDelta)
        #expect(abs(v.lossChange - delta) < 1e-5 && abs(v.lossChangeStandardError - deltaError) < 1e-5)
        #expect(abs(v.divergence.standardError - standardError(windowKLD).1) < 1e-9)
        #expect(abs(v.agreementStandardError - standardError(windowAgree).1) < 1e-12)
        #expect(abs(v.perplexityRatio - exp(v.lossChange)) < 1e-12)
    }

    func standardError(_ values: [Double]) -> (Double, Double) {
        let n = Double(values.count), mean = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        return (mean, (variance / n).squareRoot())
    }

    /// The error bar of the loss change comes from per-window differences, so a variant that shifts every
    /// window's loss by the same amount has a tiny error bar although each model's own is large.
    @Test func testPerWindowErrorBar_isTheStandardErrorOfDifferences() {
        let (mean, error) = Evaluator.meanAndStandardError([1, 2, 3, 4])
        #expect(mean == 2.5 && abs(error - (5.0 / 3.0 / 4.0).squareRoot()) < 1e-15)
        #expect(Evaluator.meanAndStandardError([7]) == (7, 0))
        let base = [1.0, 3.0, 2.0, 5.0], shifted = base.map { $0 + 0.25 }
        let own = Evaluator.meanAndStandardError(base).standardError
        let difference = Evaluator.meanAndStandardError(zip(shifted, base).map { $0 - $1 })
        #expect(abs(difference.mean - 0.25) < 1e-15 && difference.standardError < 1e-15 && own > 0.5)
    }

    @Test func testPercentile_interpolatesAsLlamaCpp() {
        let values: [Float] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10]
        #expect(Comparator.percentile(values, 0.5) == 4.5)
        #expect(abs(Comparator.percentile(values, 0.9) - 8.2) < 1e-12)
        #expect(Comparator.percentile(values, 0) == 0 && Comparator.percentile(values, 1) == 10)
        #expect(Comparator.percentile([], 0.5) == 0 && Comparator.percentile([3], 0.99) == 3)
    }

    @Test func testIdenticalModels_giveZeroDivergenceAndFullAgreement() throws {
        let model = try Self.model(seed: 3)
        let result = try Comparator.compare(base: model.weights, variants: [model.weights, model.weights], tokens: Self.tokens)
        for v in result.variants {
            let k = v.divergence
            #expect([k.mean, k.standardError, k.median, k.p90, k.p95, k.p99, k.p999, k.maximum, k.minimum].allSatisfy { $0 == 0 })
            #expect(v.agreement == 1 && v.agreementStandardError == 0)
            #expect(v.probabilityChange == 0 && v.lossChange == 0 && v.lossChangeStandardError == 0)
            #expect(v.evaluation.loss == result.base.loss && v.evaluation.accuracy == result.base.accuracy)
        }
        // The comparison's base figures are the Evaluator's.
        let alone = try Evaluator.evaluate(model: model, tokens: Self.tokens)
        #expect(alone.loss == result.base.loss && alone.standardError == result.base.standardError && alone.accuracy == result.base.accuracy)
    }

    @Test func testSampleModelAgainstQ8_0_smallPositiveDivergenceHighAgreement() throws {
        let base = try LoadedModel.load(Repository.path("sample-models/shakespeare-char-tiny"))
        let float = try #require(base.floatModel)
        let scratch = TemporaryDirectory()
        let store = WeightStore(layout: float.layout, parameters: float.parameters.pointer) { _ in .q8_0 }
        try FileManager.default.createDirectory(atPath: scratch.path("q8"), withIntermediateDirectories: true)
        try GPT2GGUF.write(store: store, config: base.config, tokenizer: base.tokenizer, name: "tiny-q8_0",
                           to: scratch.path("q8/" + LoadedModel.ggufName))
        let variant = try LoadedModel.load(scratch.path("q8"))
        #expect(variant.formatSummary == "q8_0" && variant.bitsPerWeight < 9 && variant.shortName == "q8")
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: Repository.path("datasets/tinyshakespeare.txt"))).prefix(8193),
                          as: UTF8.self)
        let result = try Comparator.compare(base: base, variants: [variant], tokens: try base.tokenizer.encode(text))
        let v = result.variants[0]
        #expect(v.divergence.mean > 0 && v.divergence.mean < 0.005, "KLD \(v.divergence.mean)")
        #expect(v.agreement > 0.95, "agreement \(v.agreement)")
        #expect(abs(v.lossChange) < 0.01 && v.divergence.maximum >= v.divergence.p999 && v.divergence.p999 >= v.divergence.p99)
        #expect(v.divergence.p99 >= v.divergence.p95 && v.divergence.p95 >= v.divergence.p90 && v.divergence.p90 >= v.divergence.median)
    }

    @Test func testDifferentVocabularies_areRefused() throws {
        var generator = RandomGenerator(seed: 4)
        let other = try GPTModel.initialized(config: ModelConfig(layerCount: 1, headCount: 2, embeddingWidth: 32, contextLength: 8,
                                                                 vocabularySize: 12), generator: &generator)
        let base = try Self.model(seed: 1)
        let error = #expect(throws: WhittleError.self) {
            try Comparator.compare(base: base.weights, variants: [other.weights], tokens: Self.tokens)
        }
        #expect(error?.kind == .invalidData && error?.message.contains("vocabulary of 12") == true)
        let a = LoadedModel(model: base, tokenizer: try CharTokenizer(symbols: Array("abcdefghijk".unicodeScalars)),
                            source: "a", weightsFile: "a", weightsFileBytes: 0)
        let b = LoadedModel(model: base, tokenizer: try CharTokenizer(symbols: Array("abcdefghijz".unicodeScalars)),
                            source: "b", weightsFile: "b", weightsFileBytes: 0)
        let tokenizers = #expect(throws: WhittleError.self) { try Comparator.compare(base: a, variants: [b], tokens: Self.tokens) }
        #expect(tokenizers?.kind == .invalidData && tokenizers?.message.contains("different tokenizers") == true)
    }

    @Test func testInferenceBench_reportsCappedLengthsAndRepetitions() throws {
        let model = try Self.model(seed: 5)
        let speed = try InferenceBench.measure(weights: model.weights, threads: 1, promptTokens: 256, decodeTokens: 4, repetitions: 3)
        #expect(speed.promptTokens == 8 && speed.promptTokensRequested == 256 && speed.decodeTokens == 4)
        #expect(speed.prefillTest == "pp8" && speed.decodeTest == "tg4" && speed.repetitions == 3)
        #expect(speed.prefillTokensPerSecond.samples.count == 3 && speed.prefillTokensPerSecond.mean > 0)
        #expect(speed.decodeMillisecondsPerToken.mean > 0 && speed.decodeTokensPerSecond.standardDeviation >= 0)
        #expect(speed.peakResidentBytes > 0)
        #expect(throws: WhittleError.self) { try InferenceBench.measure(weights: model.weights, repetitions: 0) }
        let m = RepeatedMeasurement([1, 2, 3])
        #expect(m.mean == 2 && m.standardDeviation == 1)
    }
}
