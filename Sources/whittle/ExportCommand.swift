// `whittle export`: writes any float model or variant as a plain Hugging Face GPT-2 directory with
// dense fp32 weights (pruned weights as zeros, removed heads padded back as zero heads).

import ArgumentParser
import Foundation
import WhittleEngine

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a float model or variant as a dense Hugging Face directory.",
        discussion: """
        Examples:
          whittle export --model variants/small-wanda50 --format hf --out exports/small-wanda50
          whittle export --model variants/baby-n25-h1 --format hf --out exports/baby-pruned
          whittle export --model runs/quick --format hf --out exports/quick

        The directory holds config.json, model.safetensors (GPT-2 names, Conv1D layout, tied head) and tokenizer.json: GPT2LMHeadModel.from_pretrained loads it. Pruned weights are written as zeros; blocks that lost heads get them back as zero heads (transformers 5 ignores pruned_heads), narrower MLPs of different widths are padded with zero neurons to the widest (n_inner): the logits are the same. Quantized variants (model.gguf) are refused: export the float model they came from. The output must not exist; it appears complete or not at all. \(exitCodeHelp)
        """)

    @Option(name: .long, help: "The model, checkpoint, run or float variant directory.")
    var model: String

    @Option(name: .long, help: "Output format: hf.")
    var format = "hf"

    @Option(name: .long, help: "Directory to create (must not exist).")
    var out: String

    func run() throws {
        let written = try reportingErrors { () -> String in
            guard let chosen = ModelExport.Format(rawValue: format) else {
                throw WhittleError.config("unknown export format '\(format)'", hint: "formats: \(ModelExport.Format.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let loaded = try LoadedModel.load(model)
            return try ModelExport.export(loaded, format: chosen, to: out)
        }
        print(written)
    }
}
