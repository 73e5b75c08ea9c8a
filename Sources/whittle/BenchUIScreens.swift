// The screens `whittle bench ui --screen` times besides Train, set up with realistic content: Compare
// with a `whittle compare --json` report (the models' table, the Pareto plot and a side-by-side
// generation of a few hundred characters per model), the selection moving every frame; Compress
// with the model the engine read, a sensitivity map measured on a few calibration windows (quantize)
// or the prune form's prediction (prune), and a pass running whose progress changes every frame.

import Foundation
import WhittleEngine
import WhittleUI

enum BenchUIScreen: String, CaseIterable, Sendable {
    case train, compare, compress
}

/// A screen's state and how a frame changes it.
struct BenchUIScene {
    var state: AppState
    /// Applied before each timed frame (the frame's index).
    var advance: (inout AppState, Int) -> Void
}

extension BenchUIScene {
    /// The Compare screen over `report` (its models, the plot, side by side), the cursor walking the rows.
    static func compare(_ report: ComparisonReport, width: Int, height: Int) -> BenchUIScene {
        var state = AppState(width: width, height: height)
        _ = update(&state, .runStateChanged(.running))
        _ = update(&state, .key(.character("v")))
        state.compare.models = report.models.map(\.model)
        _ = update(&state, .comparisonFinished(report))
        let text = String(repeating: "ROMEO:\nBut, soft! what light through yonder window breaks?\nIt is the east, and Juliet is the sun.\n", count: 3)
        var sideBySide = SideBySide(models: state.compare.models, prompt: "ROMEO:")
        sideBySide.outputs = sideBySide.models.map { _ in text }
        sideBySide.summaries = sideBySide.models.map { _ in
            GenerationSummary(promptTokens: 6, generatedTokens: 160, prefillTokensPerSecond: 52_000, decodeMillisecondsPerToken: 0.41)
        }
        state.compare.sideBySide = sideBySide
        return BenchUIScene(state: state) { state, frame in
            _ = update(&state, .key(frame % 4 < 2 ? .down : .up))
        }
    }

    /// The Compress screen on `model` with a pass running: the quantize form with a sensitivity map of
    /// `samples` calibration windows, the prune form (Wanda 50%) with its prediction, or the distil form
    /// (the default student of `model`) with its prediction and a training step's progress.
    static func compress(model: String, pass: CompressPass, samples: Int, width: Int, height: Int) throws -> BenchUIScene {
        var state = AppState(width: width, height: height)
        _ = update(&state, .runStateChanged(.running))
        _ = update(&state, .key(.character("w")))
        state.compress.model = model
        _ = update(&state, .modelInspected(try ModelInspection.read(model)))
        if pass == .quantize {
            _ = update(&state, .scanFinished(try Quantizer.scan(basePath: model, calibration: Quantizer.Calibration(samples: samples))))
        } else {
            state.compress.focus = .pass
            _ = update(&state, .key(.right))
            if pass == .distil { _ = update(&state, .key(.right)) }
        }
        state.compress.focus = .output
        state.compress.output = TextField(state.compress.defaultOutput)
        _ = update(&state, .key(.function(5)))
        guard state.compress.status.isBusy else {
            throw WhittleError.config("the Compress form cannot apply: \(state.compress.error ?? "?")", hint: "check --model")
        }
        return BenchUIScene(state: state) { state, frame in
            let tensor = "h.\(frame % 4).mlp.c_fc.weight"
            let activity = switch pass {
            case .quantize: "\(tensor) → q4_0"
            case .prune: "pruning \(tensor) (\(frame % 16 + 1)/16)"
            case .distil: "step \(frame % 600 + 1)/600  loss 2.1234 (ce 2.2345, kl 0.1234)"
            }
            _ = update(&state, .passProgress(activity, Double(frame % 100) / 100))
        }
    }
}
