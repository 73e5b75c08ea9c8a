// The what-if preview: while a hyperparameter is being edited, the memory ledger the candidate
// value would give next to the current one, both from `TrainingConfig.memoryEstimate` (nothing is
// allocated). The memory panel draws it in place of the live legend.

import WhittleEngine

/// Predicted ledgers for the current settings and for one changed value.
public struct MemoryWhatIf: Equatable, Sendable {
    /// The config key being changed and the candidate text as typed.
    public var key: String
    public var candidateText: String
    public var current: TrainingSession.MemoryLedger
    /// Nil when the candidate is not a valid setting (see `error`).
    public var candidate: TrainingSession.MemoryLedger?
    public var error: String?
    /// Data-parallel workers now and with the candidate.
    public var currentWorkers = 1
    public var candidateWorkers = 1

    /// One row of the comparison: category, bytes now, bytes with the candidate.
    public struct Row: Equatable, Sendable {
        public var name: String
        public var current: Int
        public var candidate: Int?
        public var delta: Int? { candidate.map { $0 - current } }
    }

    /// Weights, gradients, optimizer, activations, workspace and the total.
    public var rows: [Row] {
        func row(_ name: String, _ path: KeyPath<TrainingSession.MemoryLedger, Int>) -> Row {
            Row(name: name, current: current[keyPath: path], candidate: candidate?[keyPath: path])
        }
        return [
            row("weights", \.weights), row("gradients", \.gradients), row("optimizer", \.optimizer),
            row("activations", \.activations), row("workspace", \.workspace), row("total", \.total),
        ]
    }

    /// One worker's bytes (activations + workspace + gradient buffer) and, per ZeRO stage 1–3, what
    /// one worker would hold (`MemoryLedger.zeroStages`).
    public var workerRows: [Row] {
        let now = current.zeroStages(workers: currentWorkers)
        let then = candidate?.zeroStages(workers: candidateWorkers)
        return [Row(name: "per worker", current: current.perWorkerBytes(workers: currentWorkers),
                    candidate: candidate?.perWorkerBytes(workers: candidateWorkers))]
            + (1...3).map { Row(name: "ZeRO \($0)", current: now[$0].total, candidate: then?[$0].total) }
    }

    /// The preview of setting `id` to `text` in `config` (a run over `vocabularySize` symbols).
    public static func preview(
        config: TrainingConfig, vocabularySize: Int, id: HyperparameterID, text: String
    ) -> MemoryWhatIf {
        let current = config.memoryEstimate(vocabularySize: vocabularySize)
        var result = MemoryWhatIf(key: id.rawValue, candidateText: text, current: current)
        result.currentWorkers = config.workers
        result.candidateWorkers = config.workers
        do {
            let candidate = try config.setting(id.rawValue, to: text, source: "the what-if preview")
            result.candidate = candidate.memoryEstimate(vocabularySize: vocabularySize)
            result.candidateWorkers = candidate.workers
        } catch {
            result.error = (error as? WhittleError)?.message ?? "\(error)"
        }
        return result
    }
}

extension AppState {
    /// The what-if preview for the value being edited; nil when not editing or before a run is loaded.
    public var memoryWhatIf: MemoryWhatIf? {
        guard let field = editing, let config = runConfig, vocabularySize > 0 else { return nil }
        return MemoryWhatIf.preview(config: config, vocabularySize: vocabularySize, id: selectedID, text: field.text)
    }
}
