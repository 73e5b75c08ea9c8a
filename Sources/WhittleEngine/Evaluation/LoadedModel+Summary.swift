// How the comparison and benchmark tables name a loaded model: its short name, the formats its
// matrices are stored in, and its parameter count.

import Foundation

extension LoadedModel {
    /// The last path component of where the model came from ("model.gguf" names its directory instead).
    public var shortName: String {
        let url = URL(fileURLWithPath: source)
        return url.lastPathComponent == LoadedModel.ggufName ? url.deletingLastPathComponent().lastPathComponent
            : url.lastPathComponent
    }

    /// The formats the products read: "f32", "q8_0", or "q4_0+q8_0" when tensors differ (most common first).
    public var formatSummary: String {
        var counts: [WeightFormat: Int] = [:]
        let operands = [weights.head] + weights.blocks.flatMap { [$0.qkv.weight, $0.attentionOutput.weight, $0.mlpUp.weight,
                                                                   $0.mlpDown.weight] }
        for operand in operands { counts[operand.format, default: 0] += operand.inputs * operand.outputs }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.rawValue < $1.key.rawValue }
            .map(\.key.rawValue).joined(separator: "+")
    }

    /// Parameters of the model (every tensor).
    public var parameterCount: Int { weights.layout.totalCount }
}
