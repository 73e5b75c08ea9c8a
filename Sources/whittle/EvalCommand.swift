// `whittle eval`: loss, perplexity (with an error bar) and next-token accuracy of a model over the
// whole validation split or a given text, in non-overlapping context windows; with --base, also the
// change against the base on the same windows, KL divergence, top-token agreement and Δp.

import ArgumentParser
import Foundation
import WhittleEngine

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model (or a variant against its base) on its validation split or on a text file.",
        discussion: """
        Examples:
          whittle eval --model sample-models/shakespeare-char-tiny
          whittle eval --model runs/quick --data my-text.txt --json
          whittle eval --model variants/tiny-q4_0 --base sample-models/shakespeare-char-tiny

        --model takes a model, checkpoint or run directory, a variant directory (model.gguf) or a .gguf file. Without --data the validation split is used: the last val_fraction of the dataset named in the config.toml of the base (with --base) or of the model (nanoGPT's split). The text is cut into non-overlapping windows of the context length; every position of every window is scored. The error bar is the standard error of the mean loss across windows; perplexity's interval is exp(loss ± 1.96·SE).

        With --base, both models run on the same windows: the loss change has its own error bar from per-window differences; KLD is KL(base ‖ model) per token in nats (as llama-perplexity --kl-divergence); agreement is how often both models' most likely tokens are the same; Δp is the mean change in the probability of the correct token. See `whittle compare` for several variants, sizes and speed.

        \(exitCodeHelp)
        """)

    @Option(name: .long, help: "Model, checkpoint, run or variant directory, or a .gguf file.")
    var model: String

    @Option(name: .long, help: "Compare against this base model on the same windows.")
    var base: String?

    @Option(name: .long, help: "Evaluate on this whole text file instead of the validation split.")
    var data: String?

    @Option(name: .long, parsing: .unconditional, help: "Window length in tokens (default and maximum: the model's context length).")
    var context: Int?

    @Option(name: .long, parsing: .unconditional, help: "Context windows per forward pass.")
    var batchSize = 16

    @Flag(name: .long, help: "Skip characters the model has never seen instead of stopping.")
    var skipUnknown = false

    @Flag(name: .long, help: "Print the result as JSON on stdout.")
    var json = false

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
    }

    struct Report: Encodable {
        var model: String
        var base: String?
        var data: String
        var parameters: Int
        var contextLength: Int
        var skippedCharacters: Int
        var fileBytes: Int
        var bitsPerWeight: Double
        var result: EvaluationResult
        var comparison: Comparison?

        struct Comparison: Encodable {
            var base: EvaluationResult
            var variant: VariantComparison
        }

        enum CodingKeys: String, CodingKey {
            case model, base, data, parameters, contextLength = "context_length", skippedCharacters = "skipped_characters",
                 fileBytes = "file_bytes", bitsPerWeight = "bits_per_weight", result, comparison
        }
    }

    func run() throws {
        let report = try reportingErrors { () -> Report in
            let loaded = try LoadedModel.load(model)
            let baseModel = try base.map { try LoadedModel.load($0) }
            let text = try ModelText.load(file: data, split: .validation, skipUnknown: skipUnknown, tokenizer: (baseModel ?? loaded).tokenizer,
                                           directories: [baseModel?.source, loaded.source].compactMap { $0 })
            var report = Report(model: loaded.source, base: baseModel?.source, data: text.source,
                                parameters: loaded.parameterCount, contextLength: 0,
                                skippedCharacters: text.skippedCharacters, fileBytes: loaded.weightsFileBytes,
                                bitsPerWeight: loaded.bitsPerWeight, result: EvaluationResult(windowLosses: [], correct: 0, tokens: 0, seconds: 0))
            if let baseModel {
                let comparison = try Comparator.compare(base: baseModel, variants: [loaded], tokens: text.tokens,
                                                        contextLength: context, batchSize: batchSize)
                report.result = comparison.variants[0].evaluation
                report.contextLength = comparison.contextLength
                report.comparison = Report.Comparison(base: comparison.base, variant: comparison.variants[0])
            } else {
                report.result = try Evaluator.evaluate(weights: loaded.weights, tokens: text.tokens, contextLength: context,
                                                       batchSize: batchSize)
                report.contextLength = context ?? loaded.config.contextLength
            }
            return report
        }
        if json {
            print(try jsonText(report))
            return
        }
        let r = report.result
        print("model       \(report.model) (\(formatCount(report.parameters)) parameters, \(formatBytes(report.fileBytes)), \(String(format: "%.2f", report.bitsPerWeight)) bits/weight)")
        print("data        \(report.data): \(r.tokens) tokens in \(r.windows) windows of \(report.contextLength)")
        if report.skippedCharacters > 0 { print("skipped     \(report.skippedCharacters) unknown characters") }
        print(String(format: "loss        %.4f ± %.4f nats/token (standard error across windows)", r.loss, r.standardError))
        print(String(format: "perplexity  %.3f (95%% interval %.3f–%.3f)", r.perplexity, r.perplexityLow, r.perplexityHigh))
        print(String(format: "accuracy    %.2f%% next-token (top-1)", r.accuracy * 100))
        if let c = report.comparison, let base = report.base {
            let v = c.variant, k = v.divergence
            print("base        \(base)")
            print(String(format: "base loss   %.4f ± %.4f, perplexity %.3f, accuracy %.2f%%", c.base.loss, c.base.standardError,
                         c.base.perplexity, c.base.accuracy * 100))
            print(String(format: "Δ loss      %+.5f ± %.5f (per-window differences); perplexity ×%.4f (95%% %.4f–%.4f)",
                         v.lossChange, v.lossChangeStandardError, v.perplexityRatio, v.perplexityRatioLow, v.perplexityRatioHigh))
            print(String(format: "KLD         mean %.6f ± %.6f nats/token; median %.6f, p90 %.6f, p95 %.6f, p99 %.6f, p99.9 %.6f, max %.6f",
                         k.mean, k.standardError, k.median, k.p90, k.p95, k.p99, k.p999, k.maximum))
            print(String(format: "same top    %.3f%% ± %.3f%% of tokens", v.agreement * 100, v.agreementStandardError * 100))
            print(String(format: "Δp          %+.5f ± %.5f (mean change in the correct token's probability)",
                         v.probabilityChange, v.probabilityChangeStandardError))
        }
        print(String(format: "time        %.2f s (%@ tokens/s)", r.seconds, formatCount(Int(Double(r.tokens) / max(r.seconds, 1e-9)))))
    }
}
