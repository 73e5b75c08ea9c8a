// `whittle prune`: makes a pruned variant directory from an fp32 model — single weights (magnitude,
// Wanda, SparseGPT; optionally an N:M pattern) or whole heads / MLP neurons (--structured). Progress
// on stderr; the result on stdout (or one JSON object with --json). Ctrl-C stops before anything is
// published.

import ArgumentParser
import Foundation
import WhittleEngine

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Prune a model into a variant directory (sparse weights or smaller matrices, lineage, model card).",
        discussion: """
        Examples:
          whittle prune --model sample-models/shakespeare-char-small --method wanda --sparsity 0.5 --out variants/small-wanda50
          whittle prune --model sample-models/shakespeare-char-small --method sparsegpt --pattern 2:4 --out variants/small-sgpt-2of4
          whittle prune --model sample-models/shakespeare-char-tiny --method magnitude --sparsity 0.5 --scope global --out v/mag-global
          whittle prune --model runs/baby --method wanda --structured neurons --sparsity 0.25 --out v/baby-n25 --json
          whittle prune --model v/baby-n25 --method wanda --structured heads --sparsity 0.17 --out v/baby-n25-h1
          whittle train --init-from variants/small-wanda50 --set max_iters=500 --out runs/recover   # recovery, mask kept
          whittle quantize --model variants/small-wanda50 --type q8_0 --out variants/small-wanda50-q8_0   # lineage keeps both passes

        Methods (score; compared within): \(PruningMethod.allCases.map { "\($0.rawValue) (\($0.traits.score); \($0.traits.comparedWithin))" }.joined(separator: "; ")). Wanda and SparseGPT read calibration statistics: --calibration-samples windows of the context length from the base's train split (the dataset its config.toml names; never the validation split), or from --calibration-data FILE.

        Targets: every block matrix (c_attn, attn c_proj, c_fc, mlp c_proj); the token embedding (also the tied output head) only with --include-embedding; the position table, LayerNorms and biases never. --sparsity is the fraction pruned of each matrix (--scope global: one magnitude threshold over all of them). --pattern N:M keeps N of every M consecutive inputs of each output row (2:4, 4:8), which fixes the sparsity at 1 − N/M; M must divide every row.

        Single-weight variants store each pruned matrix as a bitmap plus the kept values (model.sparse.safetensors: 2.125 bytes per weight at 50% against 4) and run on the dense kernels (no faster than the base; the model card and `whittle compare` say so). --structured heads|neurons removes that fraction of every block's attention heads or MLP neurons (rounded to whole units; never every head of a block), the least important first — magnitude: weight norms; wanda: their output energy on the calibration text — and writes smaller matrices as a Hugging Face directory. `whittle export --format hf` writes any float variant as a dense Hugging Face directory.

        The output directory must not exist; it is written to a temporary directory and renamed. \(exitCodeHelp)
        """)

    @Option(name: .long, help: "The fp32 model, checkpoint, run or float variant directory to prune.")
    var model: String

    @Option(name: .long, help: "magnitude, wanda or sparsegpt.")
    var method: String

    @Option(name: .long, help: "Fraction of weights (or of each block's heads / neurons) to remove, in [0, 1).")
    var sparsity: Double?

    @Option(name: .long, help: "N:M pattern, e.g. 2:4 or 4:8 (single weights only).")
    var pattern: String?

    @Option(name: .long, help: "Remove whole units: heads or neurons.")
    var structured: String?

    @Option(name: .long, help: "per-tensor (default) or global (magnitude only).")
    var scope = "per-tensor"

    @Flag(name: .long, help: "Prune the token embedding (the tied output head) too.")
    var includeEmbedding = false

    @Option(name: .long, help: "Calibration windows for wanda and sparsegpt (default 128).")
    var calibrationSamples = 128

    @Option(name: .long, help: "Seed for drawing the calibration windows (default 1).")
    var calibrationSeed: UInt64 = 1

    @Option(name: .long, help: "Calibration text file instead of the base's train split.")
    var calibrationData: String?

    @Option(name: .long, help: "Variant directory to create (must not exist).")
    var out: String

    @Flag(name: .long, help: "Print the result as JSON on stdout.")
    var json = false

    func makePlan() throws -> PruningPlan {
        let method = try PruningMethod.named(method)
        let pattern = try pattern.map(SparsityPattern.parse)
        let unit = try structured.map { name -> PruningPlan.StructuredUnit in
            guard let unit = PruningPlan.StructuredUnit(rawValue: name) else {
                throw WhittleError.config("--structured \(name) is not a unit", hint: "use --structured heads or --structured neurons")
            }
            return unit
        }
        guard let scope = PruningPlan.Scope(rawValue: scope) else {
            throw WhittleError.config("--scope \(scope) is not a scope", hint: "use per-tensor or global")
        }
        guard sparsity != nil || pattern != nil else {
            throw WhittleError.config("no target: pass --sparsity F (e.g. 0.5) or --pattern N:M", hint: "e.g. --sparsity 0.5, or --pattern 2:4")
        }
        let plan = PruningPlan(method: method, sparsity: sparsity ?? pattern!.sparsity, pattern: pattern, structured: unit,
                               scope: scope, includeEmbedding: includeEmbedding)
        try plan.validate()
        return plan
    }

    func run() throws {
        let signals = StopSignals()
        let command = (["whittle"] + CommandLine.arguments.dropFirst()).map(shellQuoted).joined(separator: " ")
        let outcome = try reportingErrors { () -> PruningJob.Outcome in
            let request = PruningJob.Request(basePath: model, plan: try makePlan(), calibrationSamples: calibrationSamples,
                                             calibrationSeed: calibrationSeed, calibrationData: calibrationData, output: out,
                                             whittleVersion: WhittleCommand.configuration.version, command: command)
            return try PruningJob.run(request, progress: report, isCancelled: { signals.received != nil })
        }
        if json {
            print(Self.jsonReport(outcome))
            return
        }
        let variant = outcome.variant
        print("variant     \(outcome.directory)")
        print("base        \(variant.base.path) (\(variant.base.weightsFile) sha256 \(variant.base.sha256.prefix(16))…)")
        print("passes      \(variant.passes.map(\.line).joined(separator: " → "))")
        if let removed = outcome.removed {
            for (l, units) in removed.enumerated() { print("  block \(l): removed \(units.map(String.init).joined(separator: ", "))") }
        }
        for report in outcome.reports {
            let error = report.relativeError.map { String(format: ", output error %.3e", $0) } ?? ""
            print(String(format: "  %5.1f%% pruned  %@%@", report.sparsity * 100, report.tensor, error))
        }
        print(String(format: "parameters  %@ (base %@)", formatCount(variant.parameterCount), formatCount(outcome.baseParameterCount)))
        print(String(format: "size        %@ bytes (%@), base %@ bytes: %.2f× smaller", formatCount(variant.weightsFileBytes),
                     variant.weightsFile, formatCount(outcome.baseWeightsFileBytes),
                     Double(outcome.baseWeightsFileBytes) / Double(max(variant.weightsFileBytes, 1))))
        print(String(format: "bits/weight %.3f (every parameter as stored)", variant.bitsPerWeight))
        if outcome.removed == nil {
            print("speed       runs on the dense kernels: not faster than the base (sparse kernels lose to dense OpenBLAS here; docs/PERFORMANCE.md)")
        }
        print(String(format: "time        %.2f s", outcome.seconds))
    }

    func report(_ progress: PruningJob.Progress) {
        switch progress {
        case .calibrating(let done, let total):
            if done == total || standardErrorIsTerminal { printError("calibration \(done)/\(total) windows") }
        case .pruning(let tensor, let index, let count): printError("[\(index)/\(count)] \(tensor)")
        case .writing(let path): printError("writing \(path)")
        }
    }

    static func jsonReport(_ outcome: PruningJob.Outcome) -> String {
        JSONValue.object([
            .init("directory", .string(outcome.directory)),
            .init("seconds", .double(outcome.seconds)),
            .init("base_weights_file_bytes", .int(outcome.baseWeightsFileBytes)),
            .init("base_parameters", .int(outcome.baseParameterCount)),
            .init("tensors", .array(outcome.reports.map { report in
                .object([
                    .init("tensor", .string(report.tensor)),
                    .init("count", .int(report.count)),
                    .init("pruned", .int(report.pruned)),
                    .init("relative_error", report.relativeError.map(JSONValue.double) ?? .null),
                ])
            })),
            .init("removed", outcome.removed.map { .array($0.map { .array($0.map(JSONValue.int)) }) } ?? .null),
            .init("variant", outcome.variant.jsonValue()),
        ]).serialized(indent: 2)
    }
}
