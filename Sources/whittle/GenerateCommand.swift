// `whittle generate`: samples text from a model with a KV cache, streaming it to stdout.

import ArgumentParser
import Foundation
import WhittleEngine

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a model.",
        discussion: """
        Examples:
          whittle generate --model sample-models/shakespeare-char-tiny --prompt "ROMEO:" --tokens 300
          whittle generate --model runs/quick --prompt "First Citizen:" --temperature 0 --stats

        Text streams to stdout as it is sampled; --stats prints timing to stderr afterwards:
        prefill tokens/s (the prompt in one batched pass) and decode ms/token (one token at a time with the key/value cache; past the context length each token recomputes the last window).

        \(exitCodeHelp)
        """)

    @Option(name: .long, help: "Model, checkpoint, run or variant directory, or a .gguf file.")
    var model: String

    @Option(name: .customLong("prompt"), help: ArgumentHelp("Text to continue (default: a newline).", valueName: "text"))
    var promptOption: String?

    var prompt: String { promptOption ?? "\n" }

    @Option(name: .long, parsing: .unconditional, help: "Number of tokens to generate.")
    var tokens = 200

    @Option(name: .long, parsing: .unconditional, help: "Sampling temperature (0 = always the most likely token).")
    var temperature: Float = 0.8

    @Option(name: .long, parsing: .unconditional, help: "Sample only among the k most likely tokens (0: no limit; the workbench's default too).")
    var topK: Int = 200

    @Option(name: .long, parsing: .unconditional, help: "Random seed for sampling.")
    var seed: UInt64 = 1337

    @Flag(name: .long, help: "Drop prompt characters the model has never seen instead of stopping.")
    var skipUnknown = false

    @Flag(name: .long, help: "Print prefill and decode speed to stderr.")
    var stats = false

    func validate() throws {
        guard tokens >= 0 else { throw ValidationError("--tokens must be ≥ 0 (got \(tokens))") }
        guard topK >= 0 else { throw ValidationError("--top-k must be ≥ 0, where 0 means no limit (got \(topK))") }
        guard temperature.isFinite, temperature >= 0 else {
            throw ValidationError("--temperature must be a finite number ≥ 0 (got \(temperature))")
        }
    }

    func run() throws {
        try reportingErrors {
            let loaded = try LoadedModel.load(model)
            let promptTokens = skipUnknown ? loaded.tokenizer.encode(prompt, skipUnknown: true).tokens
                                           : try loaded.tokenizer.encode(prompt)
            let settings = SamplingSettings(temperature: temperature, topK: topK == 0 ? nil : topK, seed: seed)
            try Generator.checkBudget(weights: loaded.weights, count: tokens)   // refuse before the prompt is echoed
            FileHandle.standardOutput.write(Data(prompt.utf8))
            let result = try Generator.generate(weights: loaded.weights, prompt: promptTokens, count: tokens,
                                                settings: settings) { token in
                FileHandle.standardOutput.write(Data(loaded.tokenizer.decode([token]).utf8))
            }
            print("")
            if stats {
                let s = result.stats
                printError(String(format: "prefill  %d tokens in %.2f ms (%.0f tokens/s)", s.promptTokens,
                                  s.prefillSeconds * 1000, s.prefillTokensPerSecond))
                printError(String(format: "decode   %d tokens in %.2f ms (%.3f ms/token)%@", s.generatedTokens,
                                  s.decodeSeconds * 1000, s.decodeMillisecondsPerToken,
                                  s.windowRecomputes > 0 ? ", \(s.windowRecomputes) window recomputes past the context length" : ""))
            }
        }
    }
}
