// `whittle distill`: trains a student config against a teacher (a distillation run, `teacher = M`),
// and with --baseline the same student alone (no teacher, student_init = scratch, same seed, steps
// and tokens) into a subdirectory whose name says so; then scores both against the teacher on the
// teacher's validation split (loss, KL divergence to the teacher, top-token agreement) and prints
// them side by side, or as JSON.

import ArgumentParser
import Foundation
import WhittleEngine

struct DistillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Distil a teacher into a smaller student; with --baseline, also train the student alone and compare.",
        discussion: """
        Examples:
          whittle distill --teacher sample-models/shakespeare-char-small --config configs/shakespeare-char-student.toml --out runs/student --baseline
          whittle distill --teacher variants/small-q8_0 --config configs/shakespeare-char-student.toml --set distill_loss=reverse_kl --out runs/rkl
          whittle distill --teacher sample-models/shakespeare-char-small --config configs/shakespeare-char-student.toml --set seed=2 --out runs/s2 --baseline --json

        The student is trained on alpha·T²·KL(teacher_T ‖ student_T) + (1 − alpha)·CE (distill_loss = reverse_kl: KL(student_T ‖ teacher_T)), plus distill_hidden_weight·(1 − cos) of the final hidden states; the teacher runs in the same step on its own kernels (a quantized variant stays quantized). --out DIR is the student's run directory (config.toml, log.jsonl with ce/kl per step, checkpoints, summary.json); the finished student is published as a variant in DIR/student (weights, variant.json with the teacher's path and SHA-256 and the recipe, model card), which `whittle compare TEACHER DIR/student` scores against the teacher. --baseline trains the same config with teacher = none and student_init = scratch into DIR/\(baselineName), then both are scored on the teacher's validation split (or --data FILE) against the teacher: whole-split loss, KL(teacher ‖ student) per token and top-token agreement. Settings: `whittle train --list-keys` (section Distillation). A distilled run resumes with `whittle train --resume DIR`.

        \(exitCodeHelp)
        """)

    /// The baseline's subdirectory of --out.
    static let baselineName = "baseline-without-teacher"

    @Option(name: .long, help: "The teacher: a model, run or variant directory, or a .gguf file.")
    var teacher: String

    @Option(name: .long, help: "The student's TOML config (its shape, optimisation and distillation keys).")
    var config: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config key, e.g. --set distill_alpha=0.7 (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(name: .long, help: "The student's run directory (created).")
    var out: String

    @Flag(name: .long, help: "Also train the student without a teacher (same seed, steps and tokens) into OUT/\(baselineName).")
    var baseline = false

    @Option(name: .long, help: "Score on this text file instead of the teacher's validation split.")
    var data: String?

    @Flag(name: .long, help: "With --data: skip characters the tokenizer does not know (the count is reported).")
    var skipUnknown = false

    @Flag(name: .long, help: "Print the results as JSON on stdout.")
    var json = false

    @Flag(name: .long, help: "Start even when a run is estimated to take over an hour.")
    var force = false

    @Flag(name: .long, help: "No progress line.")
    var quiet = false

    func run() throws {
        let (settings, alone) = try reportingErrors { try self.settings() }
        let runs = try reportingErrors { () -> [TrainingRun] in
            let distilled = try TrainingRun.start(config: settings, directory: out, confirmedLong: force)
            distilled.command = (["whittle"] + CommandLine.arguments.dropFirst()).map(shellQuoted).joined(separator: " ")
            return [distilled]
        }
        var results = [try train(runs[0], label: "distilled")]
        let student = out + "/" + Variant.studentDirectoryName
        _ = try reportingErrors {
            try Variant.publishStudent(of: runs[0], to: student, whittleVersion: WhittleCommand.configuration.version,
                                       command: runs[0].command)
        }
        runs[0].close()
        results[0].directory = student
        if !quiet { printError("student variant: \(student)") }
        if let alone {
            let run = try reportingErrors { try TrainingRun.start(config: alone, directory: out + "/" + Self.baselineName, confirmedLong: force) }
            run.command = "whittle distill … --baseline (the student alone)"
            results.append(try train(run, label: "baseline"))
            run.close()
        }
        let report = try reportingErrors { try score(results) }
        print(json ? try jsonText(report) : report.table())
    }

    /// The distilled student's settings and, with --baseline, the baseline's (checked before anything is written).
    func settings() throws -> (TrainingConfig, TrainingConfig?) {
        var student = try TrainingConfig.load(path: config)
        try student.apply(overrides: overrides)
        student.teacher = teacher
        try student.validate()
        guard baseline else { return (student, nil) }
        var alone = student
        alone.teacher = "none"
        alone.studentInit = .scratch
        alone.distillHiddenWeight = 0
        try alone.validate()
        if FileManager.default.fileExists(atPath: out + "/" + Self.baselineName) {
            throw WhittleError.config("\(out)/\(Self.baselineName) already exists", hint: "choose a new --out")
        }
        return (student, alone)
    }

    /// Trains `run` to its end (Ctrl-C saves a checkpoint and exits 128 + signal); returns its summary.
    func train(_ run: TrainingRun, label: String) throws -> (label: String, directory: String, summary: RunSummary) {
        let trainer = run.trainer
        if !quiet { printError("\(label): \(run.directory), \(trainer.config.layerCount) layers × \(trainer.config.embeddingWidth), \(formatCount(trainer.model.parameterCount)) parameters, \(trainer.config.maxIterations) steps") }
        try trainToEnd(run, quiet: quiet)
        guard let summary = run.summary else {
            throw ValidationError("\(run.directory) finished without a summary")
        }
        return (label, run.directory, summary)
    }

    /// Scores the teacher and every student on the same windows.
    func score(_ results: [(label: String, directory: String, summary: RunSummary)]) throws -> DistillationReport {
        let teacherModel = try LoadedModel.load(teacher)
        let students = try results.map { try LoadedModel.load($0.directory) }
        let text = try ModelText.load(file: data, split: .validation, skipUnknown: skipUnknown, tokenizer: teacherModel.tokenizer,
                                           directories: [teacherModel.source, results[0].directory])
        let showProgress = standardErrorIsTerminal && !quiet
        let comparison = try Comparator.compare(base: teacherModel, variants: students, tokens: text.tokens,
                                                contextLength: students[0].config.contextLength) { done, total in
            if showProgress { printError("\rscoring windows \(done)/\(total)", terminator: "") }
        }
        if showProgress { printError("\r\u{1B}[K", terminator: "") }
        let rows = zip(results, zip(students, comparison.variants)).map { result, pair in
            DistillationReport.Row(label: result.label, run: result.directory, parameters: pair.0.weights.layout.totalCount,
                                   summary: result.summary, onText: pair.1)
        }
        return DistillationReport(teacher: teacherModel.source, teacherParameters: teacherModel.weights.layout.totalCount,
                                  teacherEvaluation: comparison.base, scoredText: text.source,
                                  skippedCharacters: text.skippedCharacters, students: rows,
                                  gain: rows.count == 2 ? rows[1].onText.evaluation.loss - rows[0].onText.evaluation.loss : nil)
    }
}

/// What `whittle distill` prints: the teacher and each student on the same text.
struct DistillationReport: Encodable {
    struct Row: Encodable {
        var label: String
        var run: String
        var parameters: Int
        /// The run's summary (whole validation split of its own data, step times, distillation terms).
        var summary: RunSummary
        /// On the scored text, against the teacher: loss, KL(teacher ‖ student), agreement.
        var onText: VariantComparison

        enum CodingKeys: String, CodingKey { case label, run, parameters, summary, onText = "against_teacher" }
    }

    var teacher: String
    var teacherParameters: Int
    var teacherEvaluation: EvaluationResult
    var scoredText: String
    var skippedCharacters: Int
    var students: [Row]
    /// Baseline loss − distilled loss on the scored text (nil without a baseline).
    var gain: Double?

    enum CodingKeys: String, CodingKey {
        case teacher, teacherParameters = "teacher_parameters", teacherEvaluation = "teacher_evaluation", scoredText = "text",
             skippedCharacters = "skipped_characters", students, gain
    }

    /// The side-by-side table.
    func table() -> String {
        var lines = ["scored on \(scoredText)" + (skippedCharacters > 0 ? " (\(skippedCharacters) unknown characters skipped)" : "")
                     + String(format: "; teacher %@ (%@ parameters): loss %.4f ± %.4f, accuracy %.1f%%", teacher,
                              formatCount(teacherParameters), teacherEvaluation.loss, teacherEvaluation.standardError,
                              teacherEvaluation.accuracy * 100)]
        var table = TextTable(headers: ["", "parameters", "steps", "ms/step", "loss", "KLD to teacher", "same top", "accuracy",
                                        "final ce", "final kl"], rows: [], rightAligned: Set(1...9))
        for row in students {
            let e = row.onText.evaluation, d = row.summary.distillation
            table.rows.append([row.label, formatCount(row.parameters), String(row.summary.steps),
                          String(format: "%.1f", row.summary.medianMilliseconds),
                          String(format: "%.4f ± %.4f", e.loss, e.standardError),
                          String(format: "%.4f ± %.4f", row.onText.divergence.mean, row.onText.divergence.standardError),
                          String(format: "%.1f%%", row.onText.agreement * 100), String(format: "%.1f%%", e.accuracy * 100),
                          d.map { String(format: "%.4f", $0.crossEntropy) } ?? "-",
                          d.map { String(format: "%.4f", $0.divergence) } ?? "-"])
        }
        lines.append(table.aligned())
        if let gain {
            lines.append(String(format: "gain of distillation: %.4f nats/token (baseline loss − distilled loss)", gain))
        }
        return lines.joined(separator: "\n")
    }
}
