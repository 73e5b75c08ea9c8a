// What a finished run measured, written as `summary.json` in the run directory: the figures the
// model card, `whittle train`'s last line and `whittle sweep`'s table are made from.

import Foundation

/// The measured outcome of a training run.
public struct RunSummary: Codable, Equatable, Sendable {
    public var steps: Int
    public var tokensPerStep: Int
    /// Median step time, excluding the first steps (warm-up) when there are enough.
    public var medianMilliseconds: Double
    public var tokensPerSecond: Double
    /// Sum of step times (periodic estimates excluded).
    public var trainingSeconds: Double
    /// Wall time of this process's part of the run (nil for resumed runs).
    public var wallSeconds: Double?
    /// The last periodic estimate (eval_iters batches of each split).
    public var lastEstimate: LossEstimate?
    /// The whole validation split, as `whittle eval` reports it.
    public var validation: EvaluationResult
    public var ledger: TrainingSession.MemoryLedger

    public static let fileName = "summary.json"

    enum CodingKeys: String, CodingKey {
        case steps, tokensPerStep = "tokens_per_step", medianMilliseconds = "median_ms",
             tokensPerSecond = "tokens_per_s", trainingSeconds = "training_s", wallSeconds = "wall_s",
             lastEstimate = "last_estimate", validation, ledger
    }

    /// Reads a run directory's summary.
    public static func load(runDirectory: String) throws -> RunSummary {
        let path = runDirectory + "/" + fileName
        do {
            return try JSONDecoder().decode(RunSummary.self, from: Data(try FileIO.readFile(path)))
        } catch let error as WhittleError {
            throw error
        } catch {
            throw WhittleError.file("\(path) is not a valid run summary: \(error)", hint: "rerun the training run")
        }
    }
}

extension Trainer {
    /// Median step time skipping the first 10% of steps (at most 10), which include warm-up effects.
    var medianStepMilliseconds: Double {
        let steady = history.dropFirst(min(10, history.count / 10)).map(\.milliseconds).sorted()
        return steady.isEmpty ? 0 : steady[steady.count / 2]
    }
}
