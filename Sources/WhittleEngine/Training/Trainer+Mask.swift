// Recovery fine-tuning of a pruned model: the run keeps the model's pruning mask. Pruned gradients
// are zeroed before the norm is taken (so clipping sees only the weights that train), and after
// every optimizer step the pruned weights are set back to exactly zero and their optimizer state
// cleared. Weight decay and momentum therefore never move a pruned weight, whatever the optimizer.
// The mask lives in the checkpoints (their weights are stored sparse), so resume keeps it bit for bit.

extension Trainer {
    /// Adopts `mask` (nil: no mask): checks it against the model's layout, zeroes the pruned weights.
    func keep(_ mask: SparsityMask?) throws {
        guard let mask else {
            self.mask = nil
            return
        }
        for entry in mask.entries {
            guard let tensor = model.layout.tensor(named: entry.tensor), tensor.offset == entry.offset, tensor.count == entry.count else {
                throw WhittleError.config("the pruning mask's tensor \(entry.tensor) does not match the model",
                                          hint: "start the run from the pruned model directory the mask came with")
            }
        }
        mask.apply(to: model.parameters.pointer)
        optimizerState.zeroPruned(mask)
        self.mask = mask
    }

    /// Zeroes the pruned gradients and returns the global norm of what is left.
    func maskGradients(_ mask: SparsityMask) -> Double {
        mask.apply(to: gradients.pointer)
        return GradientClipping.globalNorm(gradients.pointer, count: gradients.count)
    }

    /// After an optimizer step: pruned weights back to zero, their optimizer state cleared.
    func holdPruned(_ mask: SparsityMask) {
        mask.apply(to: model.parameters.pointer)
        optimizerState.zeroPruned(mask)
    }
}
