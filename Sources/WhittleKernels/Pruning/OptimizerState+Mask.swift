// Keeping a pruning mask through optimizer steps: every per-element state array of a pruned tensor
// (Adam's m and v, momentum buffers, Lion's m, 8-bit AdamW's codes) is set to zero at the pruned
// positions (8-bit codes to the code of zero). Factored state (Adafactor's row and column sums) has
// no per-element entries; it only ever sees zero gradients there, since the trainer masks gradients.

extension OptimizerState {
    /// Zeroes the state of every element `mask` prunes.
    public func zeroPruned(_ mask: SparsityMask) {
        for entry in mask.entries {
            guard let index = layout.tensors.firstIndex(where: { $0.name == entry.tensor }) else { continue }
            for array in slots[index] where array.count == entry.count {
                switch array.storage {
                case .float32(let buffer):
                    for i in 0..<entry.count where !entry.isKept(i) { buffer.pointer[i] = 0 }
                case .uint8(let buffer):
                    let zero = array.name == "v_q" ? AdamW8bit.unsignedZero : AdamW8bit.signedZero
                    for i in 0..<entry.count where !entry.isKept(i) { buffer.pointer[i] = zero }
                }
            }
        }
    }
}
