// How the comparison and benchmark tables name a loaded model: its short name, the formats its
// matrices are stored in, and its parameter count.

import Foundation

extension LoadedModel {
    /// The last path component of where the model came from ("model.gguf" names its directory instead);
    /// a name every run has (a distilled run's "student", a checkpoint's "ckpt-NNNNNN") keeps its run's
    /// name in front ("runs/s1/student" is "s1/student"), so two of them stay apart in a table.
    public var shortName: String {
        var url = URL(fileURLWithPath: source)
        if url.lastPathComponent == LoadedModel.ggufName { url = url.deletingLastPathComponent() }
        let last = url.lastPathComponent
        let parent = url.deletingLastPathComponent().lastPathComponent
        let generic = last == Variant.studentDirectoryName || last.hasPrefix(Checkpoint.directoryPrefix)
        return generic && !parent.isEmpty && parent != "/" ? parent + "/" + last : last
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
