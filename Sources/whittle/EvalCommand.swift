// `whittle eval`: loss, perplexity (with an error bar) and next-token accuracy of a model over the
// whole validation split or a given text, in non-overlapping context windows.

import ArgumentParser
import Foundation
import WhittleEngine

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model on its validation split or on a text file.",
        discussion: """
        Examples:
          whittle eval --model sample-models/shakespeare-char-tiny
          whittle eval --model runs/quick --data my-text.txt --json

        Without --data the model's own validation split is used: the last val_fraction of the dataset named in the model's config.toml (nanoGPT's split). The text is cut into non-overlapping windows of the model's context length; every position of every window is scored. The error bar is the standard error of the mean loss across windows; perplexity's interval is exp(loss ± 1.96·SE).
        """)

    @Option(name: .long, help: "Model, checkpoint, run or variant directory, or a .gguf file.")
    var model: String

    @Option(name: .long, help: "Evaluate on this whole text file instead of the validation split.")
    var data: String?

    @Option(name: .long, help: "Window length in tokens (default and maximum: the model's context length).")
    var context: Int?

    @Option(name: .long, help: "Context windows per forward pass.")
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
        var data: String
        var parameters: Int
        var contextLength: Int
        var skippedCharacters: Int
        var result: EvaluationResult

        enum CodingKeys: String, CodingKey {
            case model, data, parameters, contextLength = "context_length", skippedCharacters = "skipped_characters", result
        }
    }

    func run() throws {
        let report = try reportingErrors { () -> Report in
            let loaded = try LoadedModel.load(model)
            let (tokens, source, skipped) = try evaluationTokens(loaded.source, tokenizer: loaded.tokenizer)
            let result = try Evaluator.evaluate(weights: loaded.weights, tokens: tokens, contextLength: context,
                                                batchSize: batchSize)
            return Report(model: loaded.source, data: source, parameters: loaded.weights.layout.totalCount,
                          contextLength: context ?? loaded.config.contextLength, skippedCharacters: skipped, result: result)
        }
        if json {
            print(try jsonText(report))
            return
        }
        let r = report.result
        print("model       \(report.model) (\(formatCount(report.parameters)) parameters)")
        print("data        \(report.data): \(r.tokens) tokens in \(r.windows) windows of \(report.contextLength)")
        if report.skippedCharacters > 0 { print("skipped     \(report.skippedCharacters) unknown characters") }
        print(String(format: "loss        %.4f ± %.4f nats/token (standard error across windows)", r.loss, r.standardError))
        print(String(format: "perplexity  %.3f (95%% interval %.3f–%.3f)", r.perplexity, r.perplexityLow, r.perplexityHigh))
        print(String(format: "accuracy    %.2f%% next-token (top-1)", r.accuracy * 100))
        print(String(format: "time        %.2f s (%@ tokens/s)", r.seconds, formatCount(Int(Double(r.tokens) / max(r.seconds, 1e-9)))))
    }

    /// The tokens to score and a description of where they came from.
    func evaluationTokens(_ directory: String, tokenizer: CharTokenizer) throws -> ([Int32], String, Int) {
        if let data {
            let text = try Corpus.load(path: data)
            if skipUnknown {
                let encoded = tokenizer.encode(text, skipUnknown: true)
                return (encoded.tokens, data, encoded.skipped)
            }
            return (try tokenizer.encode(text), data, 0)
        }
        let configPath = directory + "/" + Checkpoint.configName
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw WhittleError.config("\(directory) has no config.toml naming its dataset, so there is no validation split to use",
                                      hint: "pass --data FILE")
        }
        let config = try TrainingConfig.load(path: configPath)
        let prepared = try TrainingRun.prepareData(config, tokenizer: tokenizer)
        return (prepared.splits.validation, "validation split of \(config.datasetPath)", 0)
    }
}
