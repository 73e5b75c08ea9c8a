// The text `eval`, `compare` and the workbench's Compare screen evaluate on: a named text file
// (--data), or the validation split of the dataset named in a model's config.toml (the base's first
// when there is one), encoded with the models' tokenizer. The source is named in every report.

import Foundation

public struct EvaluationText: Sendable {
    public var tokens: [Int32]
    /// "my.txt" or "validation split of datasets/tinyshakespeare.txt".
    public var source: String
    public var skippedCharacters: Int

    /// `data` when given; otherwise the validation split named by the first of `directories` holding a config.toml.
    public static func load(data: String?, skipUnknown: Bool, tokenizer: CharTokenizer, directories: [String]) throws -> EvaluationText {
        if let data {
            let text = try Corpus.load(path: data)
            if skipUnknown {
                let encoded = tokenizer.encode(text, skipUnknown: true)
                return EvaluationText(tokens: encoded.tokens, source: data, skippedCharacters: encoded.skipped)
            }
            return EvaluationText(tokens: try tokenizer.encode(text), source: data, skippedCharacters: 0)
        }
        for directory in directories {
            let configPath = directory + "/" + Checkpoint.configName
            guard FileManager.default.fileExists(atPath: configPath) else { continue }
            let config = try TrainingConfig.load(path: configPath)
            let prepared = try TrainingRun.prepareData(config, tokenizer: tokenizer)
            return EvaluationText(tokens: prepared.splits.validation, source: "validation split of \(config.datasetPath)",
                                  skippedCharacters: 0)
        }
        let names = directories.joined(separator: " or ")
        throw WhittleError.config("\(names) has no config.toml naming its dataset, so there is no validation split to use",
                                  hint: "pass --data FILE (or --base with the model the variant was made from)")
    }
}
