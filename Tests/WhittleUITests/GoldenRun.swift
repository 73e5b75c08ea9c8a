// The golden frames' data, all replayed from real runs committed under Fixtures/golden (see its
// README.md): a 200-step training run (config.toml, log.jsonl, summary.json), a two-run optimizer
// sweep as the Experiments screen plans it, and a generation from the run's final weights. Nothing
// here is made up; machine-dependent figures (milliseconds, RSS, tokens/s) are the ones those runs
// measured, frozen in the files, so every frame is the same on every machine.

import Foundation
import Testing
import WhittleEngine
import WhittleTestSupport

@testable import WhittleUI

enum GoldenRun {
    static let directory = Repository.path("Tests/WhittleUITests/Fixtures/golden")
    /// Distinct characters of datasets/tinyshakespeare.txt, the run's vocabulary.
    static let vocabularySize = 65
    /// The run's name in the header.
    static let runName = "golden"

    static func config() throws -> TrainingConfig { try TrainingConfig.load(path: directory + "/run/config.toml") }

    static func summary() throws -> RunSummary { try RunSummary.load(runDirectory: directory + "/run") }

    /// Every step record of a log.jsonl.
    static func records(_ log: String) throws -> [StepRecord] {
        let text = try String(contentsOfFile: log, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(StepRecord.self, from: Data($0.utf8)) }
    }

    /// The session snapshot after the first `steps` steps of the run, paused there (finished at the
    /// end); the ETA is the average pace so far times the steps left.
    static func snapshot(steps: Int) throws -> TrainingSession.Snapshot {
        let config = try config(), summary = try summary()
        let history = Array(try records(directory + "/run/log.jsonl").prefix(steps))
        try #require(history.count == steps && config.parameterCount(vocabularySize: vocabularySize) * 4 == summary.ledger.weights,
                     "the fixture is not the 65-character run it should be")
        var snapshot = TrainingSession.Snapshot(directory: "runs/" + runName)
        snapshot.state = steps == config.maxIterations ? .finished : .paused
        snapshot.history = history
        snapshot.step = steps
        snapshot.totalSteps = config.maxIterations
        snapshot.config = config
        snapshot.parameterCount = config.parameterCount(vocabularySize: vocabularySize)
        snapshot.vocabularySize = vocabularySize
        snapshot.memory = summary.ledger
        snapshot.tokensSeen = history.reduce(0) { $0 + $1.tokens }
        snapshot.elapsedSeconds = history.reduce(0) { $0 + $1.milliseconds } / 1000
        snapshot.etaSeconds = steps < config.maxIterations
            ? snapshot.elapsedSeconds / Double(steps) * Double(config.maxIterations - steps) : nil
        snapshot.version = steps
        return snapshot
    }

    /// The UI's view of `snapshot`, through the same adapter the workbench uses.
    static func metrics(_ snapshot: TrainingSession.Snapshot) -> TrainingMetricsSnapshot {
        var metrics = SessionMetrics(runName: runName)
        return metrics.update(from: snapshot)
    }

    /// An 80×24 workbench showing `snapshot`, as the controller leaves it after syncing.
    static func state(_ snapshot: TrainingSession.Snapshot, width: Int = 80, height: Int = 24) -> AppState {
        var state = AppState(width: width, height: height)
        if let config = snapshot.config {
            _ = update(&state, .hyperparametersApplied(HyperparameterValues(config: config)))
            _ = update(&state, .runConfigChanged(config, vocabularySize: snapshot.vocabularySize))
        }
        _ = update(&state, .runStateChanged(snapshot.state))
        _ = update(&state, .unsavedProgressChanged(snapshot.state == .paused))
        return state
    }

    /// The sweep's runs for `plan` (its run names are the fixture's directories), finished: each
    /// run's table row from its summary.json and log.jsonl, its curve from the log's estimates.
    static func experimentRuns(_ plan: ExperimentPlan) throws -> [ExperimentRun] {
        try plan.runs.map { run in
            let runDirectory = directory + "/sweep/" + run.name
            var experiment = ExperimentRun(name: run.name, settings: run.settings(plan.variedKeys))
            for record in try records(runDirectory + "/" + TrainingRun.logName) {
                guard let estimate = record.evaluation else { continue }
                experiment.validationLoss.append(ValidationPoint(step: record.step, loss: Double(estimate.validation)))
            }
            experiment.result = try SweepResult.read(run: run, directory: runDirectory, variedKeys: plan.variedKeys,
                                                     targetLoss: plan.targetLoss)
            experiment.status = .finished
            return experiment
        }
    }

    /// The generation fixture: the text (prompt included) and its timing as `whittle generate --stats`
    /// printed it ("prefill  6 tokens in 0.13 ms ...", "decode   300 tokens in 56.23 ms ...").
    static func generation() throws -> (text: String, summary: GenerationSummary) {
        let text = try String(contentsOfFile: directory + "/generate.txt", encoding: .utf8)
        let stats = try String(contentsOfFile: directory + "/generate.stats", encoding: .utf8)
        func figures(_ label: String) throws -> (tokens: Int, milliseconds: Double) {
            let line = try #require(stats.split(separator: "\n").first { $0.hasPrefix(label) })
            let words = line.split(separator: " ")
            return (try #require(Int(words[1])), try #require(Double(words[4])))
        }
        let prefill = try figures("prefill"), decode = try figures("decode")
        return (text, GenerationSummary(
            promptTokens: prefill.tokens, generatedTokens: decode.tokens,
            prefillTokensPerSecond: Double(prefill.tokens) / (prefill.milliseconds / 1000),
            decodeMillisecondsPerToken: decode.milliseconds / Double(decode.tokens)))
    }
}
