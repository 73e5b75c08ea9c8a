// `whittle train`: trains a model from a TOML config (or resumes a run) with a progress line,
// a JSONL log and atomic checkpoints; Ctrl-C saves a checkpoint at the next step boundary.

import ArgumentParser
import Foundation
import WhittleEngine

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a GPT on a text file, or resume a run.",
        discussion: """
        Examples:
          whittle train --config configs/shakespeare-char-cpu.toml
          whittle train --config configs/shakespeare-char-cpu.toml --set max_iters=500 --out runs/quick
          whittle train --resume runs/quick --set max_iters=1000
          whittle train --config configs/shakespeare-char-cpu.toml --set init_from=sample-models/shakespeare-char-tiny --set max_iters=200
          whittle train --init-from variants/small-wanda50 --set max_iters=500 --out runs/recover   # recovery fine-tuning, mask kept

        The run directory holds config.toml (the exact settings), log.jsonl (one JSON line per step, with "eval" on evaluation steps) and ckpt-NNNNNN/ checkpoints (every checkpoint_interval steps and at the end). Ctrl-C, SIGTERM or SIGHUP (a closed SSH session) stops at the next step boundary and saves a checkpoint; --init-from DIR starts from a model's weights (without --config, with the settings of DIR/config.toml, which variants carry); from a pruned variant the pruned weights stay exactly zero through every step (their gradients and optimizer state too), checkpoints included; a second signal abandons the save. `--resume DIR` continues the newest checkpoint; a run that stopped before its first checkpoint restarts there from step 0. Only one process writes a run directory at a time. A run that fits in memory but is estimated to take over an hour asks for --force. Config keys: `whittle train --list-keys`.

        \(exitCodeHelp)
        """)

    @Option(name: .long, help: "TOML config file (keys as nanoGPT's; see --list-keys).")
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config key, e.g. --set learning_rate=3e-4 (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(name: .customLong("init-from"), help: "Start from this model's weights (init_from); a pruned variant's mask is kept.")
    var initFrom: String?

    @Option(name: .long, help: "Run directory to create (default: runs/<config name>-<date>-<time>).")
    var out: String?

    @Option(name: .long, help: "Resume the newest complete checkpoint of this run directory.")
    var resume: String?

    @Flag(name: .long, help: "Start even when the run is estimated to take over an hour.")
    var force = false

    @Flag(name: .long, help: "Print only the final summary.")
    var quiet = false

    @Flag(name: .long, help: "List every config key with its type, default and meaning, then exit.")
    var listKeys = false

    func validate() throws {
        if listKeys { return }
        if config == nil && resume == nil && initFrom == nil {
            throw ValidationError("give --config FILE (or --init-from DIR) to start a run or --resume DIR to continue one")
        }
        if resume != nil && initFrom != nil {
            throw ValidationError("--init-from cannot be used with --resume; a resumed run continues its own weights")
        }
        if config != nil && resume != nil {
            throw ValidationError("--config and --resume cannot be combined; a resumed run uses its own config.toml (change keys with --set)")
        }
        if resume != nil && out != nil {
            throw ValidationError("--out cannot be used with --resume; the run continues in its own directory")
        }
    }

    func run() throws {
        if listKeys {
            print(TrainingConfig.keyListing())
            return
        }
        let run = try reportingErrors { try makeRun() }
        run.command = (["whittle"] + CommandLine.arguments.dropFirst()).map(shellQuoted).joined(separator: " ")
        let trainer = run.trainer
        if !quiet {
            let c = trainer.config
            printError("run        \(run.directory)")
            printError("model      \(c.layerCount) layers, \(c.headCount) heads, width \(c.embeddingWidth), context \(c.contextLength): \(formatCount(trainer.model.parameterCount)) parameters")
            printError("data       \(c.datasetPath): \(formatCount(trainer.data.train.count)) train / \(formatCount(trainer.data.validation.count)) validation tokens, vocabulary \(trainer.tokenizer.vocabularySize)")
            printError("optimizer  \(c.optimizer.displayName): \(formatCount(trainer.optimizerState.byteCount)) bytes of state")
            printError("precision  \(HalfMatmul.pathDescription(c.precision))\(Trainer.usesLossScaler(c) ? "; dynamic loss scaling from 2^16" : "")")
            if let teacher = trainer.teacher {
                let t = teacher.model.config
                printError("teacher    \(teacher.reference.path) (\(t.layerCount) layers, width \(t.embeddingWidth), \(teacher.reference.weightsFile) sha256 \(teacher.reference.sha256.prefix(12))…): alpha \(c.distillAlpha), T \(c.distillTemperature), \(c.distillLoss.rawValue), hidden weight \(c.distillHiddenWeight), student_init \(c.studentInit.rawValue)")
            }
            printError("training   steps \(trainer.step + 1)...\(c.maxIterations), batch \(c.batchSize)×\(c.gradientAccumulationSteps), lr \(c.learningRate) (\(c.schedule.rawValue)), \(plural(c.workers, "worker")) × \(plural(c.blasThreads, "BLAS thread"))")
        }
        if let mask = trainer.mask, !quiet {
            printError("pruned     \(formatCount(mask.prunedCount)) of \(formatCount(mask.maskedCount)) weights in \(mask.entries.count) tensors held at zero (mask from \(trainer.config.initFrom))")
        }
        for note in run.notes + trainer.notes { printError("note       \(note)") }
        try trainToEnd(run, quiet: quiet) { record, progress in
            if let evaluation = record.evaluation, !quiet {
                progress.printAbove(String(format: "step %d: train loss %.4f, val loss %.4f", record.step,
                                           evaluation.train, evaluation.validation)
                                    + (record.divergence == nil ? "" : "; objective \(String(format: "%.4f", record.loss))" + progress.distillationTerms(record)))
            }
        }
        if trainer.stoppedEarly {
            printError("stopped early after step \(trainer.step): no new best validation loss in \(trainer.config.earlyStoppingPatience) evaluations")
        }
        if let summary = run.summary {
            var line = String(format: "done: %d steps, median %.1f ms/step (%.0f tokens/s)", summary.steps,
                              summary.medianMilliseconds, summary.tokensPerSecond)
            if let estimate = summary.lastEstimate {
                line += String(format: ", train loss %.4f, val loss %.4f (estimates)", estimate.train, estimate.validation)
            }
            line += String(format: "; whole validation split %.4f ± %.4f", summary.validation.loss, summary.validation.standardError)
            printError(line)
        }
        print(run.directory + "/" + Checkpoint.directoryName(step: trainer.step))
    }

    func makeRun() throws -> TrainingRun {
        if let resume {
            return try TrainingRun.resume(directory: resume, overrides: overrides, confirmedLong: force)
        }
        let configPath = try config ?? Self.configOf(model: initFrom!)
        var settings = try TrainingConfig.load(path: configPath)
        try settings.apply(overrides: overrides + (initFrom.map { ["init_from=\($0)"] } ?? []))
        try settings.validate()
        if let out { return try TrainingRun.start(config: settings, directory: out, confirmedLong: force) }
        let name = config.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
            ?? URL(fileURLWithPath: initFrom!).lastPathComponent
        let directory = try RunDirectory.claim(name: name)
        do {
            return try TrainingRun.start(config: settings, directory: directory, confirmedLong: force)
        } catch {
            RunDirectory.releaseIfEmpty(directory)
            throw error
        }
    }
}

extension TrainCommand {
    /// The settings a model directory carries (`config.toml`: runs' checkpoints and variants have it).
    static func configOf(model directory: String) throws -> String {
        let path = directory + "/" + Checkpoint.configName
        guard FileManager.default.fileExists(atPath: path) else {
            throw WhittleError.config("\(directory) has no config.toml to take the run's settings from",
                                      hint: "add --config FILE (the model's shape comes from its weights either way)")
        }
        return path
    }
}

/// The argument as a POSIX shell word (quoted only when needed).
func shellQuoted(_ word: String) -> String {
    let safe = word.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_./=:,+@%".unicodeScalars.contains($0) }
    return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
