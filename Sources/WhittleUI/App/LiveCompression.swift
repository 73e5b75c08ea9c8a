// Compressing the live run from the Train screen: `p` opens the prune-now form (method, target:
// a sparsity or an N:M pattern), `z` the quantize-now form (type, rounding method). Every field is a
// choice (←/→), so the form can only describe a valid request; the engine still validates it (an
// N:M group that does not divide a matrix's rows is refused with the fix). While the training thread
// works, `activity` says what it does; the result stays in `last` and in the status bar, and the loss
// chart marks the step.

import Foundation
import WhittleEngine

/// The prune-now / quantize-now form.
public struct LiveCompressForm: Equatable, Sendable {
    public enum Kind: String, Equatable, Sendable {
        case prune, quantize
    }

    /// What a prune removes: a fraction of each matrix, or N of every M inputs.
    public enum PruneTarget: Equatable, Sendable {
        case fraction(Double)
        case pattern(SparsityPattern)

        public var label: String {
            switch self {
            case .fraction(let f): "\(Int((f * 100).rounded()))% of each matrix"
            case .pattern(let p): "\(p) (\(p.keep) of every \(p.group) inputs)"
            }
        }
    }

    public static let pruneTargets: [PruneTarget] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map { .fraction($0) }
        + [.pattern(SparsityPattern(keep: 2, group: 4)), .pattern(SparsityPattern(keep: 4, group: 8))]
    public static let quantizeFormats: [WeightFormat] = [.q8_0, .q5_1, .q5_0, .q4_1, .q4_0, .int8]

    public var kind: Kind
    /// The focused row (0 or 1).
    public var focus = 0
    public var pruneMethod = PruningMethod.magnitude
    /// Index into `pruneTargets` (default 50%).
    public var pruneTarget = 4
    /// Index into `quantizeFormats`.
    public var format = 0
    public var rounding = RoundingMethod.rtn
    /// Quantize: also publish the rounded weights as a variant (a checkpoint of the step is saved first).
    public var publish = false

    public init(kind: Kind) { self.kind = kind }

    /// The rows as (label, value).
    public var rows: [(label: String, value: String)] {
        switch kind {
        case .prune:
            [("method", pruneMethod.rawValue), ("target", Self.pruneTargets[pruneTarget].label)]
        case .quantize:
            [("type", Self.quantizeFormats[format].rawValue + " (embedding q8_0)"), ("method", rounding.rawValue),
             ("publish", publish ? "yes: save a checkpoint, write a variant" : "no, measure only")]
        }
    }

    /// The next (`up`) or previous choice of the focused row, wrapping.
    public mutating func cycle(up: Bool) {
        func step(_ index: Int, _ count: Int) -> Int { (index + (up ? 1 : count - 1)) % count }
        switch (kind, focus) {
        case (.prune, 0):
            let all = PruningMethod.allCases
            pruneMethod = all[step(all.firstIndex(of: pruneMethod)!, all.count)]
        case (.prune, _): pruneTarget = step(pruneTarget, Self.pruneTargets.count)
        case (.quantize, 0): format = step(format, Self.quantizeFormats.count)
        case (.quantize, 2): publish.toggle()
        case (.quantize, _):
            let all = RoundingMethod.allCases
            rounding = all[step(all.firstIndex(of: rounding)!, all.count)]
        }
    }

    /// The effect the form asks for. A quantize that publishes carries an empty `Publication`: the
    /// controller fills in the variants directory and the version.
    public var effect: Effect {
        switch kind {
        case .prune:
            let plan: PruningPlan
            switch Self.pruneTargets[pruneTarget] {
            case .fraction(let f): plan = PruningPlan(method: pruneMethod, sparsity: f)
            case .pattern(let p): plan = PruningPlan(method: pruneMethod, sparsity: p.sparsity, pattern: p)
            }
            return .pruneNow(PruneNowRequest(plan: plan))
        case .quantize:
            return .quantizeNow(QuantizeNowRequest(plan: QuantizationPlan(defaultFormat: Self.quantizeFormats[format]),
                                                   method: rounding,
                                                   publish: publish ? .init(root: "", whittleVersion: "") : nil))
        }
    }

    /// What the form does, in one line under the rows.
    public var explanation: String {
        switch kind {
        case .prune: "Prunes the live weights; the mask holds from here on."
        case .quantize: "Rounds a copy, scores it against fp32; training goes on in fp32."
        }
    }
}

/// The Train screen's prune-now / quantize-now status.
public struct LiveCompressionState: Equatable, Sendable {
    /// What the training thread is doing for a request ("pruning magnitude 50% at step 120..."), or nil.
    public var activity: String?
    /// The latest result.
    public var last: CompressionEvent?

    public init() {}
}

extension CompressionEvent {
    /// The loss chart's marker label: "prune 50%", "q4_0 +0.04".
    public var chartLabel: String {
        switch kind {
        case .prune:
            "prune " + (sparsity.map { "\(Int(($0 * 100).rounded()))%" } ?? settings)
        case .quantize:
            (settings.split(separator: " ").first.map(String.init) ?? settings) + " " + String(format: "%+.3f", lossChange)
        }
    }
}
