// Inference speed as llama-bench measures it: prefill ("pp": one forward pass over a prompt of
// N tokens into an empty KV cache, tokens/s) and decode ("tg": N single-token forward passes from
// an empty cache, each attending over the cache, ms/token and tokens/s), after one untimed warm-up
// of each, over r repetitions (mean ± sample standard deviation). Only the forward passes are timed:
// no tokenization, sampling or allocation. Decode stays within the context (past it the decoder
// re-prefills a window, a different workload), so both lengths are capped at the context length.

import Foundation

/// Mean and sample standard deviation of repeated measurements.
public struct RepeatedMeasurement: Equatable, Codable, Sendable {
    public var mean: Double
    public var standardDeviation: Double
    public var samples: [Double]

    enum CodingKeys: String, CodingKey { case mean, standardDeviation = "sd", samples }

    public init(_ samples: [Double]) {
        self.samples = samples
        let n = Double(samples.count)
        mean = samples.isEmpty ? 0 : samples.reduce(0, +) / n
        let m = mean
        standardDeviation = samples.count > 1 ? (samples.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot() : 0
    }
}

/// What `InferenceBench.measure` measured for one model at one thread count.
public struct InferenceSpeed: Equatable, Codable, Sendable {
    public var threads: Int
    /// Prompt length run (the requested one, or the context length if shorter) and the one requested.
    public var promptTokens: Int
    public var promptTokensRequested: Int
    public var decodeTokens: Int
    public var decodeTokensRequested: Int
    public var repetitions: Int
    public var prefillTokensPerSecond: RepeatedMeasurement
    public var decodeMillisecondsPerToken: RepeatedMeasurement
    public var decodeTokensPerSecond: RepeatedMeasurement
    /// Peak resident set while this measurement ran (see `peakScope`).
    public var peakResidentBytes: Int
    public var peakScope: String

    enum CodingKeys: String, CodingKey {
        case threads, promptTokens = "prompt_tokens", promptTokensRequested = "prompt_tokens_requested",
             decodeTokens = "decode_tokens", decodeTokensRequested = "decode_tokens_requested", repetitions,
             prefillTokensPerSecond = "prefill_tokens_per_s", decodeMillisecondsPerToken = "decode_ms_per_token",
             decodeTokensPerSecond = "decode_tokens_per_s", peakResidentBytes = "peak_rss_bytes", peakScope = "peak_rss_scope"
    }

    public init(threads: Int, promptTokens: Int, promptTokensRequested: Int, decodeTokens: Int, decodeTokensRequested: Int,
                repetitions: Int, prefillTokensPerSecond: RepeatedMeasurement, decodeMillisecondsPerToken: RepeatedMeasurement,
                decodeTokensPerSecond: RepeatedMeasurement, peakResidentBytes: Int, peakScope: String) {
        self.threads = threads
        self.promptTokens = promptTokens
        self.promptTokensRequested = promptTokensRequested
        self.decodeTokens = decodeTokens
        self.decodeTokensRequested = decodeTokensRequested
        self.repetitions = repetitions
        self.prefillTokensPerSecond = prefillTokensPerSecond
        self.decodeMillisecondsPerToken = decodeMillisecondsPerToken
        self.decodeTokensPerSecond = decodeTokensPerSecond
        self.peakResidentBytes = peakResidentBytes
        self.peakScope = peakScope
    }

    /// llama-bench's test names: "pp256", "tg128".
    public var prefillTest: String { "pp\(promptTokens)" }
    public var decodeTest: String { "tg\(decodeTokens)" }
}

public enum InferenceBench {
    /// Times prefill and decode of `weights` with `threads` BLAS/kernel threads (restored afterwards).
    /// Token ids are a fixed pseudo-random sequence over the vocabulary (speed does not depend on them).
    public static func measure(weights: ModelWeights, threads: Int = 1, promptTokens: Int = 256, decodeTokens: Int = 128,
                               repetitions: Int = 5) throws -> InferenceSpeed {
        guard threads >= 1, promptTokens >= 1, decodeTokens >= 1, repetitions >= 1 else {
            throw WhittleError.config("threads, prompt tokens, decode tokens and repetitions must each be at least 1 (got \(threads), \(promptTokens), \(decodeTokens), \(repetitions))",
                                      hint: "for example --threads 1,2 --prompt-tokens 256 --decode-tokens 128 --repetitions 5")
        }
        let d = weights.dimensions
        let P = min(promptTokens, d.maxT), N = min(decodeTokens, d.maxT)
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        let tokens: [Int32] = (0..<max(P, N)).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int32(Int(state >> 33) % d.V)
        }
        let previousThreads = BLAS.threadCount
        BLAS.setThreadCount(threads)
        defer { BLAS.setThreadCount(previousThreads) }
        let peakIsReset = PeakResident.reset()
        let cache = KVCache(dimensions: d)
        let prompt = ActivationArena(dimensions: d, B: 1, T: P)
        for t in 0..<P { prompt.tokens[t] = tokens[t] }
        let step = ActivationArena(dimensions: d, B: 1, T: 1)

        func prefill() -> Double {
            cache.reset()
            let start = DispatchTime.now().uptimeNanoseconds
            GPT.forward(weights: weights, arena: prompt, withTargets: false, cache: cache)
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        func decode() -> Double {
            cache.reset()
            let start = DispatchTime.now().uptimeNanoseconds
            for t in 0..<N {
                step.tokens[0] = tokens[t]
                GPT.forward(weights: weights, arena: step, withTargets: false, cache: cache)
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        _ = prefill()
        _ = decode()
        var prefillRates: [Double] = [], decodeMilliseconds: [Double] = [], decodeRates: [Double] = []
        for _ in 0..<repetitions {
            prefillRates.append(Double(P) / max(prefill(), 1e-12))
            let seconds = max(decode(), 1e-12)
            decodeMilliseconds.append(seconds * 1000 / Double(N))
            decodeRates.append(Double(N) / seconds)
        }
        let peak = PeakResident.read()
        return InferenceSpeed(threads: threads, promptTokens: P, promptTokensRequested: promptTokens, decodeTokens: N,
                              decodeTokensRequested: decodeTokens, repetitions: repetitions,
                              prefillTokensPerSecond: RepeatedMeasurement(prefillRates),
                              decodeMillisecondsPerToken: RepeatedMeasurement(decodeMilliseconds),
                              decodeTokensPerSecond: RepeatedMeasurement(decodeRates),
                              peakResidentBytes: peakIsReset && peak > 0 ? peak : ProcessMemory.peakResidentBytes(),
                              peakScope: peakIsReset && peak > 0
                                ? "process peak during this measurement (every model loaded in the process is resident)"
                                : "process peak since start (this kernel does not reset the peak)")
    }
}

/// The process's resident-set high-water mark, reset between measurements: Linux resets VmHWM when
/// "5" is written to /proc/self/clear_refs (since 4.0) and reports it in /proc/self/status.
public enum PeakResident {
    /// Resets the high-water mark to the current resident set; false where the kernel refuses.
    @discardableResult
    public static func reset() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data("5".utf8)) } catch { return false }
        return true
    }

    /// VmHWM in bytes (0 where /proc is unavailable).
    public static func read() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
        }
        return 0
    }
}
