// `whittle bench infer`: inference speed alone, as llama-bench reports it — per model and thread
// count, a prefill test (ppN, tokens/s) and a decode test (tgN, tokens/s and ms/token), each after a
// warm-up and over r repetitions, mean ± sample standard deviation (`InferenceBench`).

import ArgumentParser
import Foundation
import WhittleEngine

struct BenchInferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Time prefill and decode of models (llama-bench's pp/tg tests).",
        discussion: """
        Examples:
          whittle bench infer --model sample-models/shakespeare-char-tiny
          whittle bench infer --model base --model variants/q4_0 --threads 1,2 --json
          whittle bench infer --model variants/q8_0/model.gguf --prompt-tokens 128 --decode-tokens 64 --repetitions 10

        ppN: one forward pass over N prompt tokens into an empty KV cache (N = --prompt-tokens, or the context length if shorter), reported in tokens/s. tgN: N single-token forward passes from an empty cache, each attending over the cache (N = --decode-tokens, capped at the context length: past it the decoder re-prefills a window, a different workload), reported in tokens/s and ms/token. Each test runs once untimed, then --repetitions times; the table shows mean ± sample standard deviation. Only the forward passes are timed (no tokenization, sampling or allocation). --threads sets the BLAS and quantized-kernel thread count. Build with `swift build -c release`: debug figures mean nothing.
        """)

    @Option(name: .long, help: "Model, checkpoint, run or variant directory, or a .gguf file (repeatable).")
    var model: [String] = []

    @Option(name: .long, help: ArgumentHelp("Thread counts to run, comma-separated.", valueName: "n,n,…"))
    var threads = "1"

    @Option(name: .long, help: "Prompt tokens of the prefill test.")
    var promptTokens = 256

    @Option(name: .long, help: "Tokens of the decode test.")
    var decodeTokens = 128

    @Option(name: .long, help: "Timed repetitions of each test.")
    var repetitions = 5

    @Flag(name: .long, help: "Print the results as JSON.")
    var json = false

    func threadCounts() throws -> [Int] {
        let parts = threads.split(separator: ",", omittingEmptySubsequences: false)
        let counts = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, counts.count == parts.count, counts.allSatisfy({ $0 >= 1 && $0 <= 1024 }) else {
            throw ValidationError("--threads takes thread counts of at least 1, comma-separated (got \(threads))")
        }
        return counts
    }

    func validate() throws {
        guard !model.isEmpty else { throw ValidationError("name at least one model with --model") }
        _ = try threadCounts()
        guard promptTokens >= 1, decodeTokens >= 1, repetitions >= 1 else {
            throw ValidationError("--prompt-tokens, --decode-tokens and --repetitions must each be at least 1")
        }
    }

    struct Result: Encodable {
        var model: String
        var source: String
        var format: String
        var parameters: Int
        var fileBytes: Int
        var bitsPerWeight: Double
        var speed: InferenceSpeed

        enum CodingKeys: String, CodingKey {
            case model, source, format, parameters, fileBytes = "file_bytes", bitsPerWeight = "bits_per_weight", speed
        }
    }

    func run() throws {
        let counts = try threadCounts()
        let results = try reportingErrors { () -> [Result] in
            var results: [Result] = []
            for path in model {
                let loaded = try LoadedModel.load(path)
                for count in counts {
                    if !json && standardErrorIsTerminal { printError("\rmeasuring \(loaded.shortName), \(plural(count, "thread"))…", terminator: "") }
                    let speed = try InferenceBench.measure(weights: loaded.weights, threads: count, promptTokens: promptTokens,
                                                           decodeTokens: decodeTokens, repetitions: repetitions)
                    results.append(Result(model: path, source: loaded.source, format: loaded.formatSummary,
                                          parameters: loaded.parameterCount, fileBytes: loaded.weightsFileBytes,
                                          bitsPerWeight: loaded.bitsPerWeight, speed: speed))
                }
            }
            if !json && standardErrorIsTerminal { printError("\r\u{1B}[K", terminator: "") }
            return results
        }
        if json {
            print(try jsonText(results))
            return
        }
        var rows: [[String]] = []
        for r in results {
            let s = r.speed
            let name = "\(r.model) \(r.format)"
            let size = formatBytes(r.fileBytes), params = formatCount(r.parameters)
            rows.append([name, size, params, "CPU", "\(s.threads)", s.prefillTest,
                         String(format: "%.2f ± %.2f", s.prefillTokensPerSecond.mean, s.prefillTokensPerSecond.standardDeviation), ""])
            rows.append([name, size, params, "CPU", "\(s.threads)", s.decodeTest,
                         String(format: "%.2f ± %.2f", s.decodeTokensPerSecond.mean, s.decodeTokensPerSecond.standardDeviation),
                         String(format: "%.3f ± %.3f", s.decodeMillisecondsPerToken.mean, s.decodeMillisecondsPerToken.standardDeviation)])
        }
        print(TextTable(headers: ["model", "size", "params", "backend", "threads", "test", "t/s", "ms/token"], rows: rows,
                        rightAligned: [1, 2, 4, 6, 7]).markdown())
        if let s = results.first?.speed {
            var notes: [String] = []
            if s.promptTokens < s.promptTokensRequested { notes.append("prefill capped at the context length (\(s.promptTokens) of \(s.promptTokensRequested) tokens)") }
            if s.decodeTokens < s.decodeTokensRequested { notes.append("decode capped at the context length (\(s.decodeTokens) of \(s.decodeTokensRequested) tokens)") }
            print("")
            print("mean ± sd over \(s.repetitions) repetitions after one warm-up" + (notes.isEmpty ? "" : "; " + notes.joined(separator: "; ")))
        }
    }
}
