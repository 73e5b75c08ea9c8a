// `whittle quantize`: makes a quantized variant directory (model.gguf, variant.json, a model card)
// from an fp32 model with a per-tensor plan; progress goes to stderr, the chosen plan and the
// result to stdout (or one JSON object with --json). Ctrl-C stops before anything is published.

import ArgumentParser
import Foundation
import WhittleEngine

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a model into a variant directory (GGUF weights, lineage, model card).",
        discussion: """
        Examples:
          whittle quantize --model sample-models/shakespeare-char-tiny --type q4_0 --out variants/tiny-q4_0
          whittle quantize --model runs/quick --type q4_0 --tensor-type ffn_down=q8_0 --tensor-type 'blk.0.*=q5_0' --out v/mixed
          whittle quantize --model sample-models/shakespeare-char-tiny --type q8_0 --embedding-type f16 --out v/q8 --json
          whittle quantize --model sample-models/shakespeare-char-tiny --plan plan.json --out v/planned
          whittle quantize --model sample-models/shakespeare-char-small --type q4_0 --method gptq --out variants/small-q4_0-gptq
          whittle quantize --model sample-models/shakespeare-char-small --type q4_0 --method awq --calibration-samples 256 --out v/awq

        Types: \(QuantizationPlan.storableFormats.map(\.rawValue).joined(separator: ", ")) (GGUF's block layouts and reference rounding, bit for bit). Only matrices and the token embedding (also the tied output head) are quantized; LayerNorms, biases and the position table stay f32. The embedding is q8_0 unless --embedding-type or a rule names it.

        --tensor-type PATTERN=TYPE works like llama.cpp's: the pattern is matched against GGUF names (blk.3.ffn_down.weight, token_embd.weight) and Whittle names (h.3.mlp.c_proj.weight, wte.weight), whole or as a run of dot-separated parts (ffn_down, h.3, mlp.c_fc), with * for any characters. When several rules match a tensor the last wins; a rule that matches nothing is an error. A plan file (--plan, JSON) holds {"type": "q4_0", "embedding_type": "q8_0", "tensor_types": {"ffn_down": "q8_0"}}; the command line overrides it.

        Methods: rtn rounds each block to nearest (GGUF's reference, bit for bit). imatrix, gptq and awq read calibration text: --calibration-samples windows of the model's context (default 128), drawn with --calibration-seed from the train split of the dataset named in the base's config.toml, or from --calibration-data FILE; never from the validation split. imatrix weights each block's rounding by the mean squared input (llama.cpp's --imatrix); gptq rounds columns in order of importance and feeds each error forward through the inverse Hessian (damping 1%, lazy batches of 128); awq scales input channels by activation size (folded exactly into the LayerNorm before, or the value columns) and then rounds to nearest. Every method writes ordinary blocks of the chosen type: the variant runs on the same kernels and llama.cpp loads it.

        The output directory must not exist; it is written to a temporary directory and renamed, so it appears complete or not at all. It runs with `whittle generate --model DIR` and `whittle eval --model DIR` (and llama.cpp loads model.gguf). Exit codes: 64 bad settings, 65 bad model files, 74 I/O, 130 Ctrl-C.
        """)

    @Option(name: .long, help: "The fp32 model, checkpoint or run directory to quantize.")
    var model: String

    @Option(name: .long, help: "Type of the matrices (required unless the plan file gives one).")
    var type: String?

    @Option(name: .long, help: "Rounding method: rtn (round to nearest), imatrix (importance-weighted), gptq, awq (activation-aware scaling).")
    var method = "rtn"

    @Option(name: .long, help: "Calibration windows (of the model's context) for imatrix, gptq and awq.")
    var calibrationSamples = Quantizer.Calibration.defaultSamples

    @Option(name: .long, help: "Calibration text file (default: the train split of the base's dataset; never the validation split).")
    var calibrationData: String?

    @Option(name: .long, help: "Seed that picks the calibration windows.")
    var calibrationSeed: UInt64 = 1337

    @Option(name: .customLong("tensor-type"), help: ArgumentHelp("Per-tensor type, e.g. ffn_down=q8_0 (repeatable).", valueName: "PATTERN=TYPE"))
    var tensorTypes: [String] = []

    @Option(name: .long, help: "JSON plan file: type, embedding_type and tensor_types.")
    var plan: String?

    @Option(name: .long, help: "Type of the token embedding (the tied output head); default q8_0.")
    var embeddingType: String?

    @Option(name: .long, help: "Variant directory to create (must not exist).")
    var out: String

    @Flag(name: .long, help: "Print the result as JSON on stdout.")
    var json = false

    func run() throws {
        let signals = StopSignals()
        let command = (["whittle"] + CommandLine.arguments.dropFirst()).map(shellQuoted).joined(separator: " ")
        let outcome = try reportingErrors { () -> Quantizer.Outcome in
            let calibration = Quantizer.Calibration(file: calibrationData, samples: calibrationSamples, seed: calibrationSeed)
            let request = Quantizer.Request(basePath: model, method: try RoundingMethod.named(method), plan: try makePlan(),
                                            calibration: calibration, output: out, whittleVersion: WhittleCommand.configuration.version, command: command)
            return try Quantizer.run(request, progress: report, isCancelled: { signals.received != nil })
        }
        if json {
            print(Self.jsonReport(outcome))
            return
        }
        let variant = outcome.variant
        print("variant     \(outcome.directory)")
        print("base        \(variant.base.path) (\(variant.base.weightsFile) sha256 \(variant.base.sha256.prefix(16))…)")
        print("plan        \(variant.formatCounts.map { "\($0.count) × \($0.format.rawValue)" }.joined(separator: ", "))")
        for entry in variant.plan { print("  \(entry.format.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) \(entry.tensor)") }
        print(String(format: "size        %@ bytes (%@), base %@ bytes: %.2f× smaller", formatCount(variant.weightsFileBytes),
                     variant.weightsFile, formatCount(outcome.baseWeightsFileBytes),
                     Double(outcome.baseWeightsFileBytes) / Double(max(variant.weightsFileBytes, 1))))
        print(String(format: "bits/weight %.3f (every parameter, scales included)", variant.bitsPerWeight))
        print(String(format: "time        %.2f s", outcome.seconds))
    }

    /// The plan from --plan, then --type / --embedding-type / --tensor-type on top.
    func makePlan() throws -> QuantizationPlan {
        let file = try plan.map { try QuantizationPlanFile.load(path: $0) } ?? QuantizationPlanFile()
        let listed = QuantizationPlan.storableFormats.map(\.rawValue).joined(separator: ", ")
        guard let defaultFormat = try type.map({ try QuantizationPlan.format(named: $0, for: "--type") }) ?? file.defaultFormat else {
            throw WhittleError.config("no type given: pass --type (or a plan file with \"type\")", hint: "types: \(listed)")
        }
        let embedding = try embeddingType.map { try QuantizationPlan.format(named: $0, for: "--embedding-type") }
            ?? file.embeddingFormat ?? QuantizationPlan.defaultEmbeddingFormat
        let rules = try file.rules + tensorTypes.map(QuantizationPlan.rule)
        return QuantizationPlan(defaultFormat: defaultFormat, embeddingFormat: embedding, rules: rules)
    }

    func report(_ progress: Quantizer.Progress) {
        switch progress {
        case .calibrating(let done, let total, let source):
            if done == total || done % 32 == 0 { printError("calibrating on \(source): \(done)/\(total) windows") }
        case .quantizing(let tensor, let format, let index, let count):
            printError("[\(index)/\(count)] \(tensor) → \(format.rawValue)")
        case .writing(let path): printError("writing \(path)")
        }
    }

    /// The --json result: where the variant is, how long it took, and its variant.json.
    static func jsonReport(_ outcome: Quantizer.Outcome) -> String {
        JSONValue.object([
            .init("directory", .string(outcome.directory)),
            .init("seconds", .double(outcome.seconds)),
            .init("base_weights_file_bytes", .int(outcome.baseWeightsFileBytes)),
            .init("variant", outcome.variant.jsonValue()),
        ]).serialized(indent: 2)
    }
}
