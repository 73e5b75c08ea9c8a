// Activation checkpointing setting (`checkpointing = false | true | every-K`): which transformer blocks
// keep their activations and which are recomputed in backward.

extension TrainingConfig {
    /// Recompute interval for `ActivationArena`: 0 keeps every block, K recomputes blocks l with l % K == 0.
    /// Nil when the text is not one of the accepted forms.
    public var checkpointEvery: Int? {
        switch checkpointing.lowercased() {
        case "false", "off", "none": return 0
        case "true", "on", "every-1": return 1
        default:
            guard checkpointing.lowercased().hasPrefix("every-"), let k = Int(checkpointing.dropFirst(6)), k >= 1 else {
                return nil
            }
            return k
        }
    }

    /// Throws unless `checkpointing` is false, true or every-K with 1 ≤ K ≤ n_layer.
    func validateCheckpointing() throws {
        guard let every = checkpointEvery else {
            throw WhittleError.config("checkpointing must be false, true or every-K (got \"\(checkpointing)\")",
                                      hint: "e.g. checkpointing = \"every-2\" recomputes every second block in backward")
        }
        guard every <= layerCount else {
            throw WhittleError.config("checkpointing = \(checkpointing) asks for every \(every)th block, but the model has \(layerCount) layers",
                                      hint: "use a K between 1 and \(layerCount), or true for every block")
        }
    }
}
