// Run health read off the periodic loss estimates: early stopping (no new best validation loss for
// `early_stopping_patience` evaluations) and a warning when validation rises while training falls.
// Both are derived from the history, so a resumed run continues them exactly.

import Foundation

extension Trainer {
    /// The periodic estimates so far, oldest first.
    var estimates: [LossEstimate] { history.compactMap(\.evaluation) }

    /// Whether early stopping has ended the run: the last `early_stopping_patience` estimates all failed
    /// to beat the best validation loss before them.
    public var stoppedEarly: Bool {
        let patience = config.earlyStoppingPatience
        guard patience > 0 else { return false }   // checked every step: no pass over the history when off
        let validation = estimates.map(\.validation)
        guard validation.count > patience else { return false }
        let best = validation.dropLast(patience).min()!
        return validation.suffix(patience).allSatisfy { $0 >= best }
    }

    /// A warning when this estimate's validation loss rose while its training loss fell, compared with
    /// the previous estimate (the classic sign of overfitting).
    func overfittingWarning(after estimate: LossEstimate) -> String? {
        guard let previous = estimates.last, estimate.validation > previous.validation,
              estimate.train < previous.train else { return nil }
        return "validation loss rose (\(Self.format(previous.validation)) → \(Self.format(estimate.validation))) while training loss fell (\(Self.format(previous.train)) → \(Self.format(estimate.train))): the model may be overfitting"
    }

    static func format(_ value: Float) -> String { String(format: "%.4f", value) }
}
