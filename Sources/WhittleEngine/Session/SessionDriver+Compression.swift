// Prune-now and quantize-now on the session's thread: they run between two steps (the run waits
// for them), say what they are doing in the snapshot's `activity`, and end with an event that goes
// to the host, to the snapshot's `compressions` (chart markers) and to the run's log.jsonl. A prune
// changes the weights, so the run counts as unsaved until the next checkpoint, which carries the mask.

import Dispatch

extension SessionDriver {
    func compress(_ command: TrainingSession.Command) {
        if let failure { return session.report(.compressionFailed("the run failed: \(failure)")) }
        let activity: String
        switch command {
        case .pruneNow(let request): activity = "pruning \(request.summary) at step \(trainer.step)..."
        case .quantizeNow(let request): activity = "quantizing to \(request.summary) at step \(trainer.step)..."
        default: return
        }
        session.publish { $0.activity = activity }
        defer { session.publish { $0.activity = nil } }
        do {
            var event: CompressionEvent
            switch command {
            case .pruneNow(let request):
                event = try trainer.pruneNow(request)
                // The pruned weights are not in any checkpoint yet: quitting asks, `c` saves (same step: replaced).
                lastSavedStep = min(lastSavedStep, trainer.step - 1)
            case .quantizeNow(let request):
                event = try trainer.quantizeNow(request)
            default: return
            }
            event.seconds = elapsedSeconds
            compressions.append(event)
            do {
                try run.record(event)
            } catch {
                session.report(.notice("the event was not recorded in log.jsonl: \(TrainingSession.describe(error))"))
            }
            session.report(.compressed(event))
        } catch {
            // The hint says what to choose instead (e.g. a type whose blocks fit the rows).
            let hint = (error as? WhittleError).map { " — " + $0.hint } ?? ""
            session.report(.compressionFailed(TrainingSession.describe(error) + hint))
        }
    }
}
