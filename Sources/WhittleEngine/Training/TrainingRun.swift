// A training run on disk: the run directory (exact config, JSONL log of every step, checkpoints)
// around a `Trainer`. New runs and resumed runs come from here; the CLI and the TUI drive `step()`.

import Foundation

/// A `Trainer` bound to its run directory.
public final class TrainingRun: @unchecked Sendable {
    public let directory: String
    public let trainer: Trainer
    /// SHA-256 of the corpus file, stored in checkpoints so a resume notices a changed dataset.
    public let corpusSHA256: String
    /// The command that started the run, for the model card written with the final checkpoint.
    public var command = "whittle train"
    let startedAt = DispatchTime.now().uptimeNanoseconds
    let resumed: Bool
    let log: FileHandle
    public static let logName = "log.jsonl"

    private init(directory: String, trainer: Trainer, corpusSHA256: String, log: FileHandle, resumed: Bool) {
        self.resumed = resumed
        self.directory = directory
        self.trainer = trainer
        self.corpusSHA256 = corpusSHA256
        self.log = log
    }

    deinit { try? log.close() }

    /// Prepared data for a config: the corpus, its tokenizer (built from the whole text, as nanoGPT
    /// does) and the train/validation split.
    public static func prepareData(_ config: TrainingConfig, tokenizer existing: CharTokenizer? = nil) throws
        -> (tokenizer: CharTokenizer, splits: TokenSplits, sha256: String) {
        let path = config.datasetURL.path
        let text = try Corpus.load(path: path)
        let tokenizer = existing ?? CharTokenizer(text: text)
        let tokens = try tokenizer.encode(text)
        let splits = TokenSplits.split(tokens, validationFraction: config.validationFraction)
        try TokenSplits.checkLongEnough(splits, contextLength: config.contextLength)
        return (tokenizer, splits, SHA256.hex(Array(text.utf8)))
    }

    /// Starts a new run in `directory` (created; must not already hold a run). Everything is validated
    /// and allocated before anything is written.
    public static func start(config: TrainingConfig, directory: String) throws -> TrainingRun {
        try config.validate()
        let hasCheckpoint = try Checkpoint.newest(in: directory) != nil
        if FileManager.default.fileExists(atPath: directory + "/" + logName) || hasCheckpoint {
            throw WhittleError.config("'\(directory)' already holds a training run",
                                      hint: "continue it with `whittle train --resume \(directory)` or choose another --out")
        }
        var config = config
        var initial: GPTModel?
        var initialTokenizer: CharTokenizer?
        if config.initFrom != "scratch" {
            let loaded = try ModelDirectory.load(config.initFrom)
            (initial, initialTokenizer) = (loaded.model, loaded.tokenizer)
            config.adoptShape(of: loaded.model.config)
            try config.validate()
        }
        let data = try prepareData(config, tokenizer: initialTokenizer)
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits, initialModel: initial)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw WhittleError.io("cannot create the run directory '\(directory)': \(error.localizedDescription)",
                                  hint: "check the path and permissions")
        }
        try FileIO.writeFile(Array(config.tomlString().utf8), to: directory + "/" + Checkpoint.configName, sync: true)
        let log = try openLog(directory, keepingStepsThrough: 0)
        return TrainingRun(directory: directory, trainer: trainer, corpusSHA256: data.sha256, log: log, resumed: false)
    }

    /// Resumes the newest complete checkpoint in `directory`. `overrides` (key=value) may change
    /// schedule and evaluation settings, e.g. `max_iters` to train longer.
    public static func resume(directory: String, overrides: [String] = []) throws -> TrainingRun {
        _ = try? AtomicDirectory.removeAbandonedTemporaries(in: directory)
        guard let checkpoint = try Checkpoint.newest(in: directory) else {
            throw WhittleError.file("'\(directory)' has no complete checkpoint to resume",
                                    hint: "start a new run with `whittle train --config FILE --out \(directory)`")
        }
        try AtomicDirectory.verify(checkpoint)
        var config = try TrainingConfig(toml: String(decoding: try FileIO.readFile(checkpoint + "/" + Checkpoint.configName), as: UTF8.self),
                                        source: checkpoint + "/" + Checkpoint.configName)
        let savedOptimizer = config.optimizer
        try config.apply(overrides: overrides)
        try config.validate()
        let stateBytes = try FileIO.readFile(checkpoint + "/" + Checkpoint.stateName)
        let state: TrainerState
        do {
            state = try JSONDecoder().decode(TrainerState.self, from: Data(stateBytes))
        } catch {
            throw WhittleError.file("\(checkpoint)/\(Checkpoint.stateName) is not a valid trainer state: \(error)",
                                    hint: "resume from an earlier checkpoint")
        }
        let tokenizer = try CharTokenizer(tokenizerJSON: try FileIO.readFile(checkpoint + "/" + ModelDirectory.tokenizerName))
        let data = try prepareData(config, tokenizer: tokenizer)
        guard data.sha256 == state.corpusSHA256 else {
            throw WhittleError.data("the dataset \(config.datasetPath) changed since the run started (SHA-256 differs)",
                                    hint: "restore the original file, or start a new run on the new text")
        }
        // Per-block shapes (pruned or narrowed blocks) live in the checkpoint's config.json, not in config.toml.
        let saved = try ModelConfig(huggingFaceJSON: try FileIO.readFile(checkpoint + "/" + ModelDirectory.configName))
        let trainer = try Trainer(config: config, tokenizer: tokenizer, data: data.splits, layerShapes: saved.layerShapes)
        try trainer.restore(from: checkpoint, state: state, savedOptimizer: savedOptimizer)
        let log = try openLog(directory, keepingStepsThrough: state.step)
        return TrainingRun(directory: directory, trainer: trainer, corpusSHA256: data.sha256, log: log, resumed: true)
    }

    /// Trains one step, appends it to the log, and writes a checkpoint when one is due
    /// (every `checkpoint_interval` steps and after the last step).
    @discardableResult
    public func step() throws -> StepRecord {
        let record = try trainer.trainStep()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = try encoder.encode(record)
        line.append(0x0A)
        log.write(line)
        let interval = trainer.config.checkpointInterval
        if (interval > 0 && record.step % interval == 0) || trainer.isFinished {
            try saveCheckpoint()
        }
        return record
    }

    /// Publishes a checkpoint of the current state; returns its directory. The final checkpoint of a
    /// finished run also carries a model card (`README.md`) with the whole-split evaluation and a sample.
    @discardableResult
    public func saveCheckpoint() throws -> String {
        let path = directory + "/" + Checkpoint.directoryName(step: trainer.step)
        var files = try trainer.checkpointFiles(corpusSHA256: corpusSHA256)
        if trainer.isFinished {
            let summary = try makeSummary()
            files.append(("README.md", Array(try modelCard(evaluation: summary.validation).utf8)))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try FileIO.writeFile([UInt8](try encoder.encode(summary)), to: directory + "/" + RunSummary.fileName, sync: true)
            self.summary = summary
        }
        try AtomicDirectory.publish(files: files, to: path)
        return path
    }

    /// The finished run's figures (set when the final checkpoint is written).
    public private(set) var summary: RunSummary?

    func makeSummary() throws -> RunSummary {
        let c = trainer.config
        let tokens = c.batchSize * c.contextLength * c.gradientAccumulationSteps
        let median = trainer.medianStepMilliseconds
        return RunSummary(
            steps: trainer.step, tokensPerStep: tokens, medianMilliseconds: median,
            tokensPerSecond: median > 0 ? Double(tokens) / median * 1000 : 0,
            trainingSeconds: trainer.history.reduce(0) { $0 + $1.milliseconds } / 1000,
            wallSeconds: resumed ? nil : Double(DispatchTime.now().uptimeNanoseconds - startedAt) / 1e9,
            lastEstimate: trainer.history.last(where: { $0.evaluation != nil })?.evaluation,
            validation: try Evaluator.evaluate(model: trainer.model, tokens: trainer.data.validation),
            ledger: TrainingSession.ledger(of: trainer))
    }

    func modelCard(evaluation: EvaluationResult) throws -> String {
        let settings = SamplingSettings(temperature: 0.8, topK: 40, seed: 1)
        // Start from a newline when the vocabulary has one (a fresh line), else from the corpus's first token.
        let prompt = (try? trainer.tokenizer.encode("\n")) ?? [trainer.data.train[0]]
        let sample = try Generator.generate(model: trainer.model, prompt: prompt, count: 400, settings: settings)
        let wall = resumed ? nil : Double(DispatchTime.now().uptimeNanoseconds - startedAt) / 1e9
        return ModelCard.markdown(trainer: trainer, command: command, wallSeconds: wall, evaluation: evaluation,
                                  sample: trainer.tokenizer.decode(sample.tokens), sampleSettings: settings)
    }

    /// Opens the run log for appending, first dropping lines of steps after `step` (they belong to
    /// an interrupted continuation that the resumed run will redo).
    static func openLog(_ directory: String, keepingStepsThrough step: Int) throws -> FileHandle {
        let path = directory + "/" + logName
        if let existing = FileManager.default.contents(atPath: path) {
            let kept = String(decoding: existing, as: UTF8.self).split(separator: "\n").filter { line in
                guard let record = try? JSONDecoder().decode(StepRecord.self, from: Data(line.utf8)) else { return false }
                return record.step <= step
            }
            let text = kept.map { $0 + "\n" }.joined()
            try FileIO.writeFile(Array(text.utf8), to: path, sync: true)
        } else {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw WhittleError.io("cannot open the run log '\(path)' for writing", hint: "check permissions")
        }
        handle.seekToEndOfFile()
        return handle
    }
}
