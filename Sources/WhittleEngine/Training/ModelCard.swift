// The model card written into a run's final checkpoint (`README.md`): how the model was made and
// what it measures, every figure taken from the run itself.

import Foundation

public enum ModelCard {
    /// Markdown describing a finished run: command, recipe, timing, losses, full validation-split
    /// evaluation and a sample.
    public static func markdown(trainer: Trainer, command: String, wallSeconds: Double?,
                                evaluation: EvaluationResult, sample: String, sampleSettings: SamplingSettings) -> String {
        let c = trainer.config
        let history = trainer.history
        let trainingSeconds = history.reduce(0) { $0 + $1.milliseconds } / 1000
        let medianMilliseconds = trainer.medianStepMilliseconds
        let tokensPerStep = c.batchSize * c.contextLength * c.gradientAccumulationSteps
        let lastEstimate = history.last(where: { $0.evaluation != nil })
        func f(_ value: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", value) }
        var lines: [String] = []
        lines.append("# GPT-2 (character level), \(c.layerCount) layers × width \(c.embeddingWidth)")
        lines.append("")
        lines.append("A \(trainer.model.parameterCount.formatted()) parameter GPT-2-architecture model trained by Whittle on `\(c.datasetPath)` (character tokenizer, vocabulary \(trainer.tokenizer.vocabularySize)).")
        lines.append("")
        lines.append("## How it was made")
        lines.append("")
        lines.append("```sh")
        lines.append(command)
        lines.append("```")
        lines.append("")
        lines.append("| setting | value |")
        lines.append("|---|---|")
        lines.append("| layers, heads, width, context | \(c.layerCount), \(c.headCount), \(c.embeddingWidth), \(c.contextLength) |")
        lines.append("| biases, dropout | \(c.hasBias), \(c.dropout) |")
        lines.append("| batch × accumulation × context | \(c.batchSize) × \(c.gradientAccumulationSteps) × \(c.contextLength) = \(tokensPerStep) tokens/step |")
        lines.append("| steps | \(trainer.step) |")
        lines.append("| optimizer | \(c.optimizer.displayName)\(c.optimizer.settings.contains(.momentum) ? " (momentum \(c.momentum))" : ""), lr \(c.learningRate) (\(c.warmupIterations) warmup, \(c.schedule.rawValue) to \(c.minLearningRate)), betas (\(c.beta1), \(c.beta2)), weight decay \(c.weightDecay), clip \(c.gradientClip) |")
        lines.append("| seed | \(c.seed) |")
        lines.append("| execution | \(c.workers) worker(s) × \(c.blasThreads) BLAS thread(s) per worker, \(c.precision.rawValue) |")
        if let teacher = trainer.teacher {
            lines.append("| distilled from | `\(teacher.reference.path)` (\(teacher.reference.weightsFile) SHA-256 `\(teacher.reference.sha256)`): \(c.distillAlpha) · T² · \(c.distillLoss == .forwardKL ? "KL(teacher ‖ student)" : "KL(student ‖ teacher)") + \(1 - c.distillAlpha) · CE, T = \(c.distillTemperature), hidden weight \(c.distillHiddenWeight), student_init \(c.studentInit.rawValue) |")
        }
        lines.append("")
        lines.append("## Measured")
        lines.append("")
        lines.append("| figure | value |")
        lines.append("|---|---|")
        if let wallSeconds { lines.append("| wall time of the run | \(f(wallSeconds, 1)) s |") }
        lines.append("| time in training steps | \(f(trainingSeconds, 1)) s |")
        lines.append("| median step | \(f(medianMilliseconds, 1)) ms (\(Int(Double(tokensPerStep) / medianMilliseconds * 1000)) tokens/s) |")
        if let estimate = lastEstimate?.evaluation, let step = lastEstimate?.step {
            lines.append("| train / val loss at step \(step) (\(c.evalIterations)-batch estimate) | \(f(Double(estimate.train))) / \(f(Double(estimate.validation))) |")
        }
        lines.append("| **validation loss, whole split** | **\(f(evaluation.loss)) ± \(f(evaluation.standardError))** (\(evaluation.tokens) tokens, \(evaluation.windows) windows of \(c.contextLength)) |")
        lines.append("| perplexity | \(f(evaluation.perplexity, 3)) (95% interval \(f(evaluation.perplexityLow, 3))–\(f(evaluation.perplexityHigh, 3))) |")
        lines.append("| next-token accuracy | \(f(evaluation.accuracy * 100, 2))% |")
        lines.append("")
        lines.append("Training time excludes the periodic loss estimates; the whole-split figures are `whittle eval` on the last \(Int(c.validationFraction * 100))% of the corpus.")
        lines.append("")
        lines.append("## Sample")
        lines.append("")
        lines.append("Temperature \(sampleSettings.temperature), top-k \(sampleSettings.topK.map(String.init) ?? "off"), seed \(sampleSettings.seed):")
        lines.append("")
        lines.append("```text")
        lines.append(sample)
        lines.append("```")
        lines.append("")
        lines.append("## Files")
        lines.append("")
        lines.append("`config.json` (Hugging Face GPT-2 keys), `model.safetensors` (GPT-2 tensor names, Conv1D layout, tied head), `tokenizer.json` (character vocabulary in the `tokenizers` format), `config.toml` (the exact training settings).")
        return lines.joined(separator: "\n") + "\n"
    }
}
