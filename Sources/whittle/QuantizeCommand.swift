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

        Methods: rtn rounds each block to nearest (GGUF's reference, bit for bit). imatrix, gptq and awq read calibration text: --calibration-samples windows of the model's context (default 128), drawn with --calibration-seed from the train split of the dataset named in the base's config.toml, or from --calibration-data FILE; never from the validation split. imatrix weights each block's rounding by the mean squared input (llama.cpp's --imatrix); gptq rounds columns in order of importance and feeds each error forward through the inverse Hessian (damping 1%, lazy batches of 128); awq scales input channels by activation size (folded exactly into the LayerNorm before, or the value columns), then clips each block's grid to the ratio of its largest weight with the least output error on the calibration inputs (AWQ's auto_clip; the MLP c_proj, which cannot be scaled, is clipped too). Every method writes ordinary blocks of the chosen type: the variant runs on the same kernels and llama.cpp loads it.

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

    @Flag(name: .long, help: "Measure the sensitivity map: KL divergence to the base with one tensor at a time at each type.")
    var scan = false

    @Option(name: .long, help: "Types the scan measures, comma-separated (default: all but f32).")
    var scanTypes: String?

    @Option(name: .long, help: "Calibration windows the scan scores (fewer than --calibration-samples: the scan runs the model once per tensor and type).")
    var scanSamples = 32

    @Option(name: .long, help: "A sensitivity map saved by --scan --json, instead of scanning again.")
    var scanFile: String?

    @Option(name: .long, help: "Choose every tensor's type to minimise the map's predicted KLD at this many bits per weight.")
    var targetBpw: Double?

    @Option(name: .long, help: "Variant directory to create (must not exist); not needed for --scan alone.")
    var out: String?

    @Flag(name: .long, help: "Print the result as JSON on stdout.")
    var json = false

    func validate() throws {
        if out == nil && !(scan && targetBpw == nil) {
            throw ValidationError("--out DIR is required (only --scan alone writes nothing)")
        }
        if targetBpw != nil && (type != nil || plan != nil || !tensorTypes.isEmpty || embeddingType != nil) {
            throw ValidationError("--target-bpw chooses every tensor's type: leave out --type, --plan, --tensor-type and --embedding-type")
        }
        if scanFile != nil && scan {
            throw ValidationError("--scan measures a new map and --scan-file reads a saved one: give one of them")
        }
    }

    func run() throws {
        let signals = StopSignals()
        let command = (["whittle"] + CommandLine.arguments.dropFirst()).map(shellQuoted).joined(separator: " ")
        let calibration = Quantizer.Calibration(file: calibrationData, samples: calibrationSamples, seed: calibrationSeed)
        let map = try reportingErrors { () -> SensitivityMap? in
            if let scanFile { return try SensitivityMap.load(path: scanFile) }
            guard scan || targetBpw != nil else { return nil }
            let formats = try scanTypes.map(Self.formats) ?? SensitivityScan.defaultFormats
            let scanCalibration = Quantizer.Calibration(file: calibrationData, samples: scanSamples, seed: calibrationSeed)
            return try Quantizer.scan(basePath: model, calibration: scanCalibration, formats: formats, progress: { p in
                if p.done == p.total || p.done % 8 == 0 { printError("scan [\(p.done)/\(p.total)] \(p.tensor) at \(p.format.rawValue)") }
            }, isCancelled: { signals.received != nil })
        }
        if scan, let map {
            if json && out == nil {
                print(try reportingErrors { try map.json() })
                return
            }
            print(Self.mapTable(map))
        }
        guard let out else { return }
        let outcome = try reportingErrors { () -> Quantizer.Outcome in
            var request = Quantizer.Request(basePath: model, method: try RoundingMethod.named(method), plan: try makePlan(),
                                            calibration: calibration, output: out,
                                            whittleVersion: WhittleCommand.configuration.version, command: command)
            if let targetBpw, let map {
                let assignment = try map.plan(targetBitsPerWeight: targetBpw)
                request.plan = map.quantizationPlan(assignment)
                request.sensitivity = (map, targetBpw)
                printError(String(format: "plan for %.3f bits per weight: %.3f bits per weight, predicted KLD %.6f (uniform choices: %@)",
                                  targetBpw, map.bitsPerWeight(assignment), map.predictedDivergence(assignment) ?? .nan,
                                  Self.uniformSummary(map)))
            }
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
        if let pass = variant.passes.last, let target = pass.targetBitsPerWeight, let predicted = pass.predictedDivergence {
            print(String(format: "target      %.3f bits per weight; predicted KLD %.6f (the scan's per-tensor KLDs added)", target, predicted))
        }
        print(String(format: "size        %@ bytes (%@), base %@ bytes: %.2f× smaller", formatCount(variant.weightsFileBytes),
                     variant.weightsFile, formatCount(outcome.baseWeightsFileBytes),
                     Double(outcome.baseWeightsFileBytes) / Double(max(variant.weightsFileBytes, 1))))
        print(String(format: "bits/weight %.3f (every parameter, scales included)", variant.bitsPerWeight))
        print(String(format: "time        %.2f s", outcome.seconds))
    }

    static func formats(_ list: String) throws -> [WeightFormat] {
        try list.split(separator: ",").map { try QuantizationPlan.format(named: String($0).trimmingCharacters(in: .whitespaces), for: "--scan-types") }
    }

    /// The map as a table: one row per tensor, one column per scanned type (KLD in units of 1e-6 nats per token).
    static func mapTable(_ map: SensitivityMap) -> String {
        var lines = [String(format: "sensitivity: KLD to the base ×10⁶ (nats per token), one tensor at a time; %d windows of %d from %@, seed %llu, %.1f s",
                            map.samples, map.contextLength, map.source, map.seed, map.seconds)]
        let width = max(8, map.formats.map { $0.rawValue.count }.max() ?? 0 + 1)
        let nameWidth = (map.rows.map(\.tensor.count).max() ?? 6) + 2
        lines.append("tensor".padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                     + map.formats.map { String(repeating: " ", count: width - $0.rawValue.count) + $0.rawValue }.joined())
        for row in map.rows {
            let cells = map.formats.map { format -> String in
                let text = row.kld(format).map { String(format: "%.1f", $0 * 1e6) } ?? "-"
                return String(repeating: " ", count: max(width - text.count, 1)) + text
            }
            lines.append(row.tensor.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + cells.joined())
        }
        let totals = map.formats.map { format -> String in
            let assignment = map.rows.map { $0.kld(format) == nil ? .f32 : format }
            let text = String(format: "%.1f", (map.predictedDivergence(assignment) ?? .nan) * 1e6)
            return String(repeating: " ", count: max(width - text.count, 1)) + text
        }
        lines.append("sum".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + totals.joined())
        let sizes = map.formats.map { format -> String in
            let text = String(format: "%.2f", map.bitsPerWeight(map.rows.map { $0.kld(format) == nil ? .f32 : format }))
            return String(repeating: " ", count: max(width - text.count, 1)) + text
        }
        lines.append("bits/weight".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + sizes.joined())
        return lines.joined(separator: "\n")
    }

    /// Each scanned type on every tensor: bits per weight and predicted KLD, for comparison with a chosen plan.
    static func uniformSummary(_ map: SensitivityMap) -> String {
        map.formats.map { format in
            let assignment = map.rows.map { $0.kld(format) == nil ? WeightFormat.f32 : format }
            return String(format: "%@ %.2f bpw KLD %.6f", format.rawValue, map.bitsPerWeight(assignment), map.predictedDivergence(assignment) ?? .nan)
        }.joined(separator: "; ")
    }

    /// The plan from --plan, then --type / --embedding-type / --tensor-type on top.
    func makePlan() throws -> QuantizationPlan {
        let file = try plan.map { try QuantizationPlanFile.load(path: $0) } ?? QuantizationPlanFile()
        let listed = QuantizationPlan.storableFormats.map(\.rawValue).joined(separator: ", ")
        if targetBpw != nil { return QuantizationPlan(defaultFormat: .q8_0) }   // replaced by the map's plan
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
