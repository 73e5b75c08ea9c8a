// Prune-now and quantize-now on the session's thread: they run between two steps (the run waits
// for them), say what they are doing in the snapshot's `activity`, and end with an event that goes
// to the host, to the snapshot's `compressions` (chart markers) and to the run's log.jsonl. A prune
// changes the weights, so the run counts as unsaved until the next checkpoint, which carries the mask.

import Foundation

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
                if let publication = request.publish {
                    do {
                        event.variant = try publish(request, publication)
                    } catch {
                        session.report(.notice("the variant was not published: \(TrainingSession.describe(error))"))
                    }
                }
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

    /// Saves a checkpoint of this step and quantizes it into a variant under `publication.root`; returns its directory.
    func publish(_ request: QuantizeNowRequest, _ publication: QuantizeNowRequest.Publication) throws -> String {
        let checkpoint = try run.saveCheckpoint()
        lastSavedStep = trainer.step
        lastCheckpoint = checkpoint
        session.report(.checkpointSaved(path: checkpoint, automatic: false))
        let runName = URL(fileURLWithPath: run.directory).lastPathComponent
        let output = publication.root + "/\(runName)-step\(trainer.step)-\(request.plan.defaultFormat.rawValue)-\(request.method.rawValue)"
        try FileManager.default.createDirectory(atPath: publication.root, withIntermediateDirectories: true)
        let outcome = try Quantizer.run(Quantizer.Request(
            basePath: checkpoint, method: request.method, plan: request.plan,
            calibration: Quantizer.Calibration(samples: request.calibrationSamples, seed: request.calibrationSeed),
            output: output, whittleVersion: publication.whittleVersion,
            command: "whittle workbench: quantize now at step \(trainer.step) of \(run.directory)"))
        return outcome.directory
    }
}
