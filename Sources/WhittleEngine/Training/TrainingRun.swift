// A training run on disk: the run directory (exact config, JSONL log of every step, checkpoints)
// around a `Trainer`. New runs and resumed runs come from here; the CLI and the TUI drive `step()`.
// The run holds the directory's `RunLock` while it is open, checks `ResourceBudget` before the
// trainer allocates, and turns every failed write into `.io` with the run left resumable: a log
// line cut by a full disk is dropped on resume, `summary.json` follows the published checkpoint,
// and a run that never reached a checkpoint restarts in place from step 0 (`resume`).

import Foundation
#if canImport(Glibc)
import Glibc
#endif

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
    private var log: Int32
    private let lock: RunLock
    public static let logName = "log.jsonl"

    private init(directory: String, trainer: Trainer, corpusSHA256: String, log: Int32, lock: RunLock, resumed: Bool) {
        self.resumed = resumed
        self.directory = directory
        self.trainer = trainer
        self.corpusSHA256 = corpusSHA256
        self.log = log
        self.lock = lock
    }

    deinit { close() }

    /// Closes the log and releases the directory's lock (idempotent); another process may then write the run.
    public func close() {
        if log >= 0 { _ = Glibc.close(log) }
        log = -1
        lock.release()
    }

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
    /// and checked against the machine's memory before anything is allocated, and allocated before
    /// anything but the directory and its lock is written. A run predicted to take longer than
    /// `ResourceBudget.longRunSeconds` throws `.needsConfirmation` unless `confirmedLong`.
    public static func start(config: TrainingConfig, directory: String, confirmedLong: Bool = false) throws -> TrainingRun {
        try config.validate()
        if FileIO.exists(directory + "/" + ModelDirectory.configName) {
            throw WhittleError.config("'\(directory)' is a model directory; a run is not written into it",
                                      hint: "choose a new --out, e.g. runs/NAME (add --set init_from=\(directory) to start from its weights)")
        }
        if FileIO.isDirectory(directory), Checkpoint.holdsRun(directory) {
            if let holder = RunLock.holder(of: directory), (try? RunLock(directory: directory)) == nil {
                throw WhittleError(.busy, "'\(directory)' is being written by another process (PID \(holder))",
                                   hint: "choose another --out, or wait for that run to finish")
            }
            throw WhittleError.config("'\(directory)' already holds a training run",
                                      hint: "continue it with `whittle train --resume \(directory)` (a run without a checkpoint restarts from step 0) or choose another --out")
        }
        var config = config
        var initial: GPTModel?
        var initialTokenizer: CharTokenizer?
        var mask: SparsityMask?   // a pruned model's mask, kept through training
        if config.initFrom != "scratch" {
            let loaded = try ModelDirectory.loadWithMask(config.initFrom)
            (initial, initialTokenizer, mask) = (loaded.model, loaded.tokenizer, loaded.mask)
            config.adoptShape(of: loaded.model.config)
            try config.validate()
        }
        let data = try prepareData(config, tokenizer: initialTokenizer)
        try config.checkBudget(model: initial?.config ?? config.modelConfig(vocabularySize: data.tokenizer.vocabularySize),
                               confirmedLong: confirmedLong)
        let teacher = config.isDistillation ? try Teacher.load(config, tokenizer: data.tokenizer) : nil
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits, initialModel: initial,
                                  mask: mask, teacher: teacher)
        if config.studentInit == .teacherLayers { try teacher!.initialise(trainer.model) }
        let lock = try createAndLock(directory)
        // Checked again under the lock: another process may have started a run here in the meantime.
        guard !Checkpoint.holdsRun(directory) else {
            throw WhittleError.config("'\(directory)' already holds a training run",
                                      hint: "continue it with `whittle train --resume \(directory)` or choose another --out")
        }
        try FileIO.writeFile(Array(config.tomlString().utf8), to: directory + "/" + Checkpoint.configName, sync: true)
        let log = try openLog(directory, keepingStepsThrough: 0)
        return TrainingRun(directory: directory, trainer: trainer, corpusSHA256: data.sha256, log: log, lock: lock, resumed: false)
    }

    /// Creates `directory` (and its parents) and takes its lock.
    static func createAndLock(_ directory: String) throws -> RunLock {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw WhittleError.io("cannot create the run directory '\(directory)': \(error.localizedDescription)",
                                  hint: "check the path, the permissions and the free space")
        }
        return try RunLock(directory: directory)
    }

    /// Resumes the newest complete checkpoint in `directory`. `overrides` (key=value) may change
    /// schedule and evaluation settings, e.g. `max_iters` to train longer. A run that has its
    /// `config.toml` but no checkpoint yet (stopped or failed before the first one) restarts in
    /// place from step 0 with those settings.
    public static func resume(directory: String, overrides: [String] = [], confirmedLong: Bool = false) throws -> TrainingRun {
        guard FileIO.isDirectory(directory) else {
            throw WhittleError.file("no run directory at '\(directory)'", hint: "give the directory a `whittle train` run wrote (its --out)")
        }
        if FileIO.exists(directory + "/" + ModelDirectory.configName) {   // nothing is written into a model directory
            throw WhittleError.file("'\(directory)' is a model or checkpoint directory, not a training run",
                                    hint: "resume the run directory that holds it, or train from its weights in a new run: `whittle train --config FILE --set init_from=\(directory) --out runs/NAME`")
        }
        let lock = try RunLock(directory: directory)
        _ = try? AtomicDirectory.removeAbandonedTemporaries(in: directory)
        guard let checkpoint = try Checkpoint.newest(in: directory) else {
            return try restart(directory: directory, overrides: overrides, lock: lock, confirmedLong: confirmedLong)
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
        guard config.maxIterations > state.step else {
            throw WhittleError.config("nothing to train: the newest checkpoint is at step \(state.step) and max_iters is \(config.maxIterations)",
                                      hint: "raise it, e.g. `whittle train --resume \(directory) --set max_iters=\(state.step + max(1, config.maxIterations))`")
        }
        try checkShapeUnchanged(config, checkpoint: checkpoint)
        let tokenizer = try CharTokenizer(tokenizerJSON: try FileIO.readFile(checkpoint + "/" + ModelDirectory.tokenizerName))
        let data = try prepareData(config, tokenizer: tokenizer)
        guard data.sha256 == state.corpusSHA256 else {
            throw WhittleError.data("the dataset \(config.datasetPath) changed since the run started (SHA-256 differs)",
                                    hint: "restore the original file, or start a new run on the new text")
        }
        // Per-block shapes (pruned or narrowed blocks) live in the checkpoint's config.json, not in config.toml.
        let saved = try ModelConfig(huggingFaceJSON: try FileIO.readFile(checkpoint + "/" + ModelDirectory.configName))
        try config.checkBudget(model: saved, fromStep: state.step, confirmedLong: confirmedLong)
        let teacher = config.isDistillation ? try Teacher.load(config, tokenizer: tokenizer) : nil
        if let teacher {
            guard let savedTeacher = state.teacher else {
                throw WhittleError.config("the run was trained without a teacher; --set teacher=\(config.teacher) cannot turn it into a distillation run",
                                          hint: "start a new run with the teacher (init_from = \"\(checkpoint)\" keeps these weights)")
            }
            try teacher.checkUnchanged(from: savedTeacher)
        } else if let savedTeacher = state.teacher {
            throw WhittleError.config("the run distils from \(savedTeacher.path); --set teacher=none would change its loss",
                                      hint: "resume without changing teacher, or start a new run")
        }
        let trainer = try Trainer(config: config, tokenizer: tokenizer, data: data.splits, layerShapes: saved.layerShapes,
                                  teacher: teacher)
        try trainer.restore(from: checkpoint, state: state, savedOptimizer: savedOptimizer)
        let log = try openLog(directory, keepingStepsThrough: state.step)
        return TrainingRun(directory: directory, trainer: trainer, corpusSHA256: data.sha256, log: log, lock: lock, resumed: true)
    }

    /// Restarts a run that never wrote a checkpoint, in place, from step 0 with its own config.toml.
    static func restart(directory: String, overrides: [String], lock: RunLock, confirmedLong: Bool) throws -> TrainingRun {
        let path = directory + "/" + Checkpoint.configName
        guard FileIO.exists(path) else {
            throw WhittleError.file("'\(directory)' is not a run directory: it has neither a checkpoint nor config.toml",
                                    hint: "start a new run with `whittle train --config FILE --out runs/NAME`")
        }
        var config = try TrainingConfig.load(path: path)
        try config.apply(overrides: overrides)
        try config.validate()
        var initial: GPTModel?
        var initialTokenizer: CharTokenizer?
        var mask: SparsityMask?   // a pruned model's mask, kept through training
        if config.initFrom != "scratch" {
            let loaded = try ModelDirectory.loadWithMask(config.initFrom)
            (initial, initialTokenizer, mask) = (loaded.model, loaded.tokenizer, loaded.mask)
            config.adoptShape(of: loaded.model.config)
        }
        let data = try prepareData(config, tokenizer: initialTokenizer)
        try config.checkBudget(model: initial?.config ?? config.modelConfig(vocabularySize: data.tokenizer.vocabularySize),
                               confirmedLong: confirmedLong)
        let teacher = config.isDistillation ? try Teacher.load(config, tokenizer: data.tokenizer) : nil
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits, initialModel: initial,
                                  mask: mask, teacher: teacher)
        if config.studentInit == .teacherLayers { try teacher!.initialise(trainer.model) }
        try FileIO.writeFile(Array(config.tomlString().utf8), to: path, sync: true)
        let log = try openLog(directory, keepingStepsThrough: 0)
        let run = TrainingRun(directory: directory, trainer: trainer, corpusSHA256: data.sha256, log: log, lock: lock, resumed: false)
        run.notes.append("'\(directory)' had no checkpoint: restarted from step 0 with its config.toml")
        return run
    }

    /// Throws `.config` when overrides changed the model's shape: a checkpoint's weights keep their shape.
    static func checkShapeUnchanged(_ config: TrainingConfig, checkpoint: String) throws {
        let saved = try TrainingConfig.load(path: checkpoint + "/" + Checkpoint.configName)
        let keys: [(String, Int, Int)] = [("n_layer", saved.layerCount, config.layerCount), ("n_head", saved.headCount, config.headCount),
                                          ("n_embd", saved.embeddingWidth, config.embeddingWidth),
                                          ("block_size", saved.contextLength, config.contextLength)]
        for (key, old, new) in keys where old != new {
            throw WhittleError.config("--set \(key)=\(new) changes the model's shape; the checkpoint has \(key) = \(old)",
                                      hint: "a resumed run keeps its shape; start a new run with init_from = \"\(checkpoint)\" to train a different shape")
        }
    }

    /// Messages about how the run was opened (e.g. restarted in place), for the CLI and the workbench.
    public var notes: [String] = []

    /// Trains one step, appends it to the log, and writes a checkpoint when one is due
    /// (every `checkpoint_interval` steps and after the last step).
    @discardableResult
    public func step() throws -> StepRecord {
        let record = try trainer.trainStep()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = [UInt8](try encoder.encode(record))
        line.append(0x0A)
        do {
            try FileIO.writeAll(line, to: log, path: directory + "/" + Self.logName)
        } catch let error as WhittleError {
            throw WhittleError.io(error.message, hint: "\(error.hint); the run stays resumable: `whittle train --resume \(directory)`")
        }
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
        var summary: RunSummary?
        if trainer.isFinished {
            summary = try makeSummary()
            files.append(("README.md", Array(try modelCard(evaluation: summary!.validation).utf8)))
        }
        try AtomicDirectory.publish(files: files, to: path)
        if let summary {
            // Only after the checkpoint it describes is published: a failed save never leaves a summary of a missing step.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try FileIO.writeFile([UInt8](try encoder.encode(summary)), to: directory + "/" + RunSummary.fileName, sync: true)
            self.summary = summary
        }
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
            ledger: TrainingSession.ledger(of: trainer), distillation: trainer.distillationSummary)
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

    /// Opens the run log for appending, first dropping lines of steps (and events) after `step` (they
    /// belong to an interrupted continuation that the resumed run will redo).
    static func openLog(_ directory: String, keepingStepsThrough step: Int) throws -> Int32 {
        let path = directory + "/" + logName
        if FileIO.exists(path) {
            let existing = try FileIO.readFile(path)
            let kept = String(decoding: existing, as: UTF8.self).split(separator: "\n").filter {
                keepsLogLine($0, throughStep: step)
            }
            let text = kept.map { $0 + "\n" }.joined()
            try FileIO.writeFile(Array(text.utf8), to: path, sync: true)
        }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIO.error("open the run log", path) }
        return fd
    }
}
