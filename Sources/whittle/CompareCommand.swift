// `whittle compare`: a base model and its variants on the same windows, one row per model (the base
// first): quality against the base (`Comparator`), size on disk and bits per weight, prefill and
// decode speed (`InferenceBench`), peak RSS, and in words whether each variant is smaller and faster.

import ArgumentParser
import Foundation
import WhittleEngine

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare variants with their base: quality, KL divergence, size and speed, one row per model.",
        discussion: """
        Examples:
          whittle compare sample-models/shakespeare-char-tiny variants/tiny-q8_0 variants/tiny-q4_0
          whittle compare base variant-a variant-b --md --data held-out.txt
          whittle compare base variant --json --no-speed

        The first model is the base. Every model is scored on the same non-overlapping windows of the text (the base's validation split unless --data names a file); per batch of windows the base runs once and then every variant, so nothing but running sums and the per-token KL divergences (one float per token and variant, for the percentiles) is kept.

        Columns: loss ± standard error across windows; perplexity with a 95% interval; Δ loss against the base ± the standard error of per-window differences; KLD = KL(base ‖ variant) per token in nats, as llama-perplexity --kl-divergence (mean ± error across windows, median, p90, p95, p99, p99.9, max; percentiles interpolated as llama.cpp does); same top = how often the variant's most likely token is the base's; Δp = mean change in the correct token's probability; next-token accuracy; file bytes and bits per weight; prefill tokens/s over 256 tokens (ppN: the context length if shorter) and decode ms/token over 128 tokens from an empty cache (tgN), after a warm-up, mean ± sd over --repetitions; peak RSS of the process while the model's speed was measured (every loaded model is resident). Speed from a debug build means nothing: use `swift build -c release`.
        """)

    @Argument(help: "The base model, then one or more variants (model, checkpoint, run or variant directories, or .gguf files).")
    var models: [String] = []

    @Option(name: .long, help: "Evaluate on this whole text file instead of the base's validation split.")
    var data: String?

    @Option(name: .long, help: "Window length in tokens (default and maximum: the shortest context of the models).")
    var context: Int?

    @Option(name: .long, help: "Context windows per forward pass.")
    var batchSize = 16

    @Flag(name: .long, help: "Skip characters the models have never seen instead of stopping.")
    var skipUnknown = false

    @Flag(name: .long, help: "Print Markdown tables.")
    var md = false

    @Flag(name: .long, help: "Print one CSV table with every column.")
    var csv = false

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    @Flag(name: .long, help: "Skip the speed measurement.")
    var noSpeed = false

    @Option(name: .long, help: "BLAS/kernel threads for the speed measurement.")
    var threads = 1

    @Option(name: .long, help: "Prompt tokens of the prefill test (capped at the context length).")
    var promptTokens = 256

    @Option(name: .long, help: "Tokens of the decode test (capped at the context length).")
    var decodeTokens = 128

    @Option(name: .long, help: "Timed repetitions of each speed test.")
    var repetitions = 5

    func validate() throws {
        guard models.count >= 2 else {
            throw ValidationError(models.isEmpty ? "name a base model and at least one variant"
                                  : "only one model given (\(models[0])): name the base first, then at least one variant")
        }
        guard [md, csv, json].filter({ $0 }).count <= 1 else { throw ValidationError("choose one of --md, --csv and --json") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
        guard threads >= 1, promptTokens >= 1, decodeTokens >= 1, repetitions >= 1 else {
            throw ValidationError("--threads, --prompt-tokens, --decode-tokens and --repetitions must each be at least 1")
        }
    }

    func run() throws {
        let report = try reportingErrors { try measure() }
        if json {
            print(try report.jsonText())
        } else if csv {
            print(ComparisonTables(report: report).csv())
        } else {
            print(ComparisonTables(report: report).text(markdown: md))
        }
    }

    func measure() throws -> ComparisonReport {
        let showProgress = standardErrorIsTerminal && !json
        let request = ComparisonRequest(
            models: models, data: data, skipUnknown: skipUnknown, contextLength: context, batchSize: batchSize,
            speed: noSpeed ? nil : ComparisonRequest.Speed(threads: threads, promptTokens: promptTokens,
                                                           decodeTokens: decodeTokens, repetitions: repetitions))
        let report = try ComparisonReport.measure(request) { progress in
            guard showProgress else { return }
            switch progress {
            case .loading: break
            case .measuringSpeed(let model, _, _): printError("\r\u{1B}[Kmeasuring speed of \(model)", terminator: "")
            case .scoring(let done, let total): printError("\r\u{1B}[Kscoring windows \(done)/\(total)", terminator: "")
            }
        }
        if showProgress { printError("\r\u{1B}[K", terminator: "") }
        return report
    }
}
