// A distilled student as a variant: the `distill` pass of `variant.json` (the teacher by path and
// SHA-256, the loss recipe, steps, tokens and seed, the run that trained it) and the directory it is
// published to — the student's fp32 weights (safetensors), tokenizer, the run's config.toml (so eval
// and compare find the same validation split), `variant.json` and a model card, with a manifest.
// The variant's base is the teacher.

import Foundation

/// How a student was distilled, as recorded in its variant's lineage.
public struct DistillationPass: Equatable, Sendable {
    public var teacher: TeacherReference
    public var alpha: Double
    public var temperature: Double
    public var loss: DistillationDirection
    public var hiddenWeight: Double
    public var studentInit: StudentInit
    public var steps: Int
    public var tokens: Int
    public var seed: UInt64
    /// The run directory that trained the student.
    public var run: String

    /// One line of settings: "teacher sample-models/…, alpha 0.5, T 2.0, forward_kl, init teacher_layers, 600 steps".
    public var settingsLine: String {
        "teacher \(teacher.path), alpha \(alpha), T \(temperature), \(loss.rawValue)\(hiddenWeight > 0 ? ", hidden weight \(hiddenWeight)" : ""), init \(studentInit.rawValue), \(steps) steps"
    }

    func jsonValue() -> JSONValue {
        .object([
            .init("pass", .string(Variant.Pass.Kind.distill.rawValue)),
            .init("teacher", .object([
                .init("path", .string(teacher.path)),
                .init("weights_file", .string(teacher.weightsFile)),
                .init("sha256", .string(teacher.sha256)),
            ])),
            .init("alpha", .double(alpha)),
            .init("temperature", .double(temperature)),
            .init("loss", .string(loss.rawValue)),
            .init("hidden_weight", .double(hiddenWeight)),
            .init("student_init", .string(studentInit.rawValue)),
            .init("steps", .int(steps)),
            .init("tokens", .int(tokens)),
            .init("seed", .number(String(seed))),
            .init("run", .string(run)),
        ])
    }

    /// The pass's members after `pass` (the caller checks that nothing else is left).
    static func read(_ object: inout StrictObject) throws -> DistillationPass {
        var teacher = try object.object("teacher")
        let reference = TeacherReference(path: try teacher.string("path"), weightsFile: try teacher.string("weights_file"),
                                         sha256: try teacher.sha256("sha256"))
        try teacher.finish()
        let lossName = try object.string("loss"), initName = try object.string("student_init")
        guard let loss = DistillationDirection(rawValue: lossName), let start = StudentInit(rawValue: initName) else {
            throw WhittleError.file("\(object.source): \(object.key) has an unknown loss '\(lossName)' or student_init '\(initName)'",
                                    hint: Variant.damagedHint)
        }
        let seedValue = try object.value("seed")
        guard case .number(let literal) = seedValue, let seed = UInt64(literal) else {
            throw WhittleError.file("\(object.source): \(object.key).seed must be a whole number ≥ 0", hint: Variant.damagedHint)
        }
        return DistillationPass(teacher: reference, alpha: try object.number("alpha"), temperature: try object.number("temperature"),
                                loss: loss, hiddenWeight: try object.number("hidden_weight"), studentInit: start,
                                steps: try object.count("steps"), tokens: try object.count("tokens"), seed: seed,
                                run: try object.string("run"))
    }
}

extension Variant {
    /// The subdirectory of a distillation run that holds its student as a variant.
    public static let studentDirectoryName = "student"

    /// Publishes the finished distillation `run`'s student as a variant in `directory` (atomically,
    /// with a manifest); `runCard` is the run's model card (appended to the variant's). Returns its lineage.
    @discardableResult
    public static func publishStudent(of run: TrainingRun, to directory: String, whittleVersion: String, command: String) throws -> Variant {
        let trainer = run.trainer
        guard let teacher = trainer.teacher, trainer.isFinished else {
            throw WhittleError.config("\(run.directory) is not a finished distillation run", hint: "finish it with `whittle train --resume \(run.directory)`")
        }
        let c = trainer.config, model = trainer.model
        let files = try ModelDirectory.files(model: model, tokenizer: trainer.tokenizer, dropout: c.dropout)
        let weights = files.first { $0.name == ModelDirectory.weightsName }!.bytes
        let pass = DistillationPass(
            teacher: teacher.reference, alpha: Double(String(c.distillAlpha)) ?? Double(c.distillAlpha),
            temperature: Double(String(c.distillTemperature)) ?? Double(c.distillTemperature), loss: c.distillLoss,
            hiddenWeight: Double(String(c.distillHiddenWeight)) ?? Double(c.distillHiddenWeight), studentInit: c.studentInit,
            steps: trainer.step, tokens: trainer.step * c.batchSize * c.contextLength * c.gradientAccumulationSteps,
            seed: c.seed, run: run.directory)
        let plan = model.layout.tensors.filter(QuantizationPlan.isQuantizable).map { PlanEntry(tensor: $0.name, format: .f32) }
        let variant = Variant(base: Base(path: teacher.reference.path, weightsFile: teacher.reference.weightsFile, sha256: teacher.reference.sha256),
                              passes: [Variant.Pass(settings: .distill(pass))], plan: plan, weightsFile: ModelDirectory.weightsName,
                              weightsFileBytes: weights.count, bitsPerWeight: 32, parameterCount: model.parameterCount,
                              whittleVersion: whittleVersion, command: command)
        let card = try FileIO.readFile(run.directory + "/" + Checkpoint.directoryName(step: trainer.step) + "/README.md")
        try AtomicDirectory.publish(files: files + [
            (fileName, Array(variant.json().utf8)),
            (Checkpoint.configName, Array(c.tomlString().utf8)),
            ("README.md", Array((studentCard(variant, pass: pass, summary: run.summary) + "\n" + String(decoding: card, as: UTF8.self)).utf8)),
        ], to: directory)
        return variant
    }

    /// The head of the student's model card: what it was distilled from and how.
    static func studentCard(_ variant: Variant, pass d: DistillationPass, summary: RunSummary?) -> String {
        var lines = ["# Distilled student of `\(d.teacher.path)`", "",
                     "A student variant made by Whittle \(variant.whittleVersion) with knowledge distillation: \(formatted(variant.parameterCount)) parameters, fp32 safetensors; `variant.json` holds the lineage (teacher \(d.teacher.weightsFile) SHA-256 `\(d.teacher.sha256)`).", "",
                     "| setting | value |", "|---|---|",
                     "| loss | \(d.alpha) · T² · KL(\(d.loss == .forwardKL ? "teacher_T ‖ student_T" : "student_T ‖ teacher_T")) + \(1 - d.alpha) · CE, T = \(d.temperature)\(d.hiddenWeight > 0 ? ", + \(d.hiddenWeight) · (1 − cos) of the final hidden states" : "") |",
                     "| student_init | \(d.studentInit.rawValue) |",
                     "| steps, tokens, seed | \(d.steps), \(d.tokens), \(d.seed) |",
                     "| run | `\(d.run)` |",
                     "| command | `\(variant.command)` |"]
        if let s = summary?.distillation {
            lines.append("| last \(s.termSteps) steps | objective \(String(format: "%.4f", s.objective)), ce \(String(format: "%.4f", s.crossEntropy)), kl \(String(format: "%.4f", s.divergence)) |")
        }
        if let e = summary?.validation {
            lines.append("| whole validation split | loss \(String(format: "%.4f ± %.4f", e.loss, e.standardError)) |")
        }
        return lines.joined(separator: "\n") + "\n\n## The training run's card\n"
    }

    private static func formatted(_ count: Int) -> String { String(format: "%.2f M", Double(count) / 1e6) }
}
