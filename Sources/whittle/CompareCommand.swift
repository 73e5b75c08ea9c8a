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
            print(try jsonText(report))
        } else if csv {
            print(ComparisonTables(report: report).csv())
        } else {
            print(ComparisonTables(report: report).text(markdown: md))
        }
    }

    func measure() throws -> ComparisonReport {
        let loaded = try models.map { try LoadedModel.load($0) }
        let base = loaded[0]
        try Comparator.checkTokenizers(base: base, variants: Array(loaded.dropFirst()))
        let text = try EvaluationText.load(data: data, skipUnknown: skipUnknown, tokenizer: base.tokenizer,
                                           directories: [base.source])
        let showProgress = standardErrorIsTerminal && !json
        var speeds: [InferenceSpeed?] = Array(repeating: nil, count: loaded.count)
        if !noSpeed {
            for (i, model) in loaded.enumerated() {
                if showProgress { printError("\rmeasuring speed of \(model.shortName)", terminator: "") }
                speeds[i] = try InferenceBench.measure(weights: model.weights, threads: threads, promptTokens: promptTokens,
                                                       decodeTokens: decodeTokens, repetitions: repetitions)
            }
            if showProgress { printError("\r\u{1B}[K", terminator: "") }
        }
        // Speed first, so each model's peak RSS is not the evaluation's buffers.
        let comparison = try Comparator.compare(base: base, variants: Array(loaded.dropFirst()), tokens: text.tokens,
                                                contextLength: context, batchSize: batchSize) { done, total in
            if showProgress { printError("\rscoring windows \(done)/\(total)", terminator: "") }
        }
        if showProgress { printError("\r\u{1B}[K", terminator: "") }
        var rows = loaded.enumerated().map { i, model in
            ComparisonReport.Row(model: models[i], source: model.source, role: i == 0 ? "base" : "variant",
                                 format: model.formatSummary, parameters: model.parameterCount,
                                 fileBytes: model.weightsFileBytes, bitsPerWeight: model.bitsPerWeight,
                                 evaluation: i == 0 ? comparison.base : comparison.variants[i - 1].evaluation,
                                 comparison: i == 0 ? nil : comparison.variants[i - 1], speed: speeds[i])
        }
        for i in rows.indices.dropFirst() {
            rows[i].smaller = Verdict.smaller(base: rows[0].fileBytes, variant: rows[i].fileBytes)
            if let b = rows[0].speed, let v = rows[i].speed { rows[i].faster = Verdict.faster(base: b, variant: v) }
            // A pruned variant stored sparse computes dense on the base's shapes: it cannot be faster, whatever the timer says.
            if let measured = rows[i].faster, loaded[i].weightsFile.hasSuffix(ModelDirectory.sparseWeightsName), loaded[i].config == base.config {
                let figures = measured.split(separator: ":", maxSplits: 1).last.map(String.init) ?? measured
                rows[i].faster = "no: pruned weights are stored sparse but computed dense on the base's shapes (measured\(figures): noise)"
            }
        }
        return ComparisonReport(data: text.source, skippedCharacters: text.skippedCharacters,
                                contextLength: comparison.contextLength, windows: comparison.windows,
                                tokens: comparison.tokens, threads: noSpeed ? nil : threads,
                                processPeakResidentBytes: ProcessMemory.peakResidentBytes(), models: rows)
    }
}

/// Everything `compare` measured.
struct ComparisonReport: Encodable {
    var data: String
    var skippedCharacters: Int
    var contextLength: Int
    var windows: Int
    var tokens: Int
    var threads: Int?
    var processPeakResidentBytes: Int
    var models: [Row]

    struct Row: Encodable {
        var model: String
        var source: String
        var role: String
        var format: String
        var parameters: Int
        var fileBytes: Int
        var bitsPerWeight: Double
        var evaluation: EvaluationResult
        var comparison: VariantComparison?
        var speed: InferenceSpeed?
        /// In words, against the base (variants only; `faster` only when speed was measured).
        var smaller: String? = nil
        var faster: String? = nil

        enum CodingKeys: String, CodingKey {
            case model, source, role, format, parameters, fileBytes = "file_bytes", bitsPerWeight = "bits_per_weight",
                 evaluation, comparison = "against_base", speed, smaller, faster
        }
    }

    enum CodingKeys: String, CodingKey {
        case data, skippedCharacters = "skipped_characters", contextLength = "context_length", windows, tokens, threads,
             processPeakResidentBytes = "process_peak_rss_bytes", models
    }
}
