// The text a model is evaluated or calibrated on: a named text file, or a split of the dataset named
// in the `config.toml` that training leaves beside the weights (and `whittle quantize` copies into
// variants), cut into nanoGPT's train and validation splits and encoded with the model's tokenizer.
// Evaluation reads the validation split; calibration reads the train split, never the validation one.
// The source is named in every report.

import Foundation

/// One of a dataset's two splits.
public enum DatasetSplit: String, Sendable {
    case train, validation
}

/// Tokens to evaluate or calibrate on, and where they came from.
public struct ModelText: Sendable {
    public var tokens: [Int32]
    /// "my.txt" or "validation split of datasets/tinyshakespeare.txt".
    public var source: String
    /// Characters outside the tokenizer's vocabulary left out (with `skipUnknown`).
    public var skippedCharacters: Int

    public init(tokens: [Int32], source: String, skippedCharacters: Int = 0) {
        self.tokens = tokens
        self.source = source
        self.skippedCharacters = skippedCharacters
    }

    /// The whole text of `file` when given; otherwise `split` of the dataset named by the first of
    /// `directories` holding a config.toml. `option` names the command-line flag for `file` in errors.
    public static func load(file: String?, split: DatasetSplit, skipUnknown: Bool = false, tokenizer: CharTokenizer,
                            directories: [String], option: String = "--data") throws -> ModelText {
        if let file {
            let text = try Corpus.load(path: file)
            if skipUnknown {
                let encoded = tokenizer.encode(text, skipUnknown: true)
                return ModelText(tokens: encoded.tokens, source: file, skippedCharacters: encoded.skipped)
            }
            return ModelText(tokens: try tokenizer.encode(text), source: file)
        }
        for directory in directories {
            let configPath = directory + "/" + Checkpoint.configName
            guard FileManager.default.fileExists(atPath: configPath) else { continue }
            let config = try TrainingConfig.load(path: configPath)
            let splits = try TrainingRun.prepareData(config, tokenizer: tokenizer).splits
            return ModelText(tokens: split == .train ? splits.train : splits.validation,
                             source: "\(split == .train ? "train" : "validation") split of \(config.datasetPath)")
        }
        throw WhittleError.config("\(directories.joined(separator: " or ")) has no config.toml naming its dataset, so there is no \(split.rawValue) split to use",
                                  hint: "pass \(option) FILE\(split == .validation ? " (or --base with the model the variant was made from)" : "")")
    }
}
