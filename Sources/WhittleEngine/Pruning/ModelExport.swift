// `whittle export --format hf`: any float model Whittle loads (a model directory, a checkpoint, a
// pruned variant with sparse weights, a structured variant) written as a plain Hugging Face GPT-2
// directory with dense fp32 weights: config.json, model.safetensors, tokenizer.json. Blocks that
// lost heads are padded back to n_head heads with zero query/key/value columns and zero c_proj
// rows (a zero head attends uniformly over zero values and adds exactly nothing), because
// transformers 5 no longer applies `pruned_heads` (see docs/DECISIONS.md "Per-block shapes"); MLPs
// of different widths are padded with zero neurons (GELU(0)·0 = 0) to the widest, which is then
// `n_inner`. The padded model computes the same logits; a uniform narrower MLP stays narrow.

import Foundation

public enum ModelExport {
    /// The formats `whittle export` writes.
    public enum Format: String, CaseIterable, Sendable {
        /// A Hugging Face GPT-2 directory with dense fp32 safetensors.
        case hf
    }

    /// Writes `model` (fp32 weights required) as `format` to `output` (must not exist), atomically;
    /// returns the directory written.
    @discardableResult
    public static func export(_ model: LoadedModel, format: Format, to output: String) throws -> String {
        let output = AtomicDirectory.normalized(output)
        guard !FileIO.exists(output) else {
            throw WhittleError.config("'\(output)' already exists", hint: "choose another --out, or delete it first")
        }
        guard let float = model.floatModel else {
            throw WhittleError.config("\(model.source) holds quantized weights (\(model.weightsFile)); a Hugging Face directory needs float weights",
                                      hint: "export the float model or variant the quantized one was made from (its model.gguf already loads in llama.cpp)")
        }
        switch format {
        case .hf:
            let dense = try padded(float)
            var files = try ModelDirectory.files(model: dense, tokenizer: model.tokenizer)
            let trainingConfig = model.source + "/" + Checkpoint.configName
            if FileIO.isDirectory(model.source), FileIO.exists(trainingConfig) {
                files.append((Checkpoint.configName, try FileIO.readFile(trainingConfig)))
            }
            try AtomicDirectory.publish(files: files, to: output)
        }
        return output
    }

    /// `model` with every block at n_head heads and the widest MLP width (zeros where units were removed).
    public static func padded(_ model: GPTModel) throws -> GPTModel {
        let d = model.layout.dimensions, heads = model.config.headCount, widest = d.maxHiddenWidth
        guard d.layers.contains(where: { $0.heads != heads || $0.hiddenWidth != widest }) else { return model }
        var config = model.config
        config.setLayerShapes(Array(repeating: LayerShape(heads: heads, hiddenWidth: widest), count: d.L))
        try config.validate()
        let dense = try GPTModel(config: config)   // zero-filled
        for tensor in model.layout.tensors {
            let target = dense.layout.tensor(named: tensor.name)!
            let from = model.parameters.pointer + tensor.offset, to = dense.parameters.pointer + target.offset
            // Where each source row / column goes in the padded tensor (the kept units first, in order).
            var columnMap = Array(0..<(tensor.shape.last ?? 1))
            if let l = tensor.layer, tensor.role == .weight(.qkv) || tensor.role == .bias(.qkv) {
                let A = d.attentionWidth(l), full = heads * d.headWidth
                columnMap = columnMap.map { ($0 / A) * full + $0 % A }
            }
            let rows = tensor.shape.count == 2 ? tensor.shape[0] : 1
            let columns = tensor.shape.last!, targetColumns = target.shape.last!
            for r in 0..<rows {
                for c in 0..<columns { to[r * targetColumns + columnMap[c]] = from[r * columns + c] }
            }
        }
        return dense
    }
}
