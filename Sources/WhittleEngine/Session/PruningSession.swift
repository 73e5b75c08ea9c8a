// One prune pass as a job: `PruningJob.run` on its own thread, publishing whether it is calibrating
// (windows done), pruning (which tensor) or writing, cancellable between calibration batches, between
// tensors and before publishing. A cancelled or failed pass leaves no variant directory behind (it is
// published atomically or not at all; the parent is made if missing). The workbench's Compress screen
// starts one per Apply of a prune pass.

import Foundation

/// A `PruningJob.run` on its own thread.
public final class PruningSession: VariantPassSession {
    public let job: VariantPassJob
    public let output: String

    public init(_ request: PruningJob.Request) {
        output = request.output
        job = VariantPassJob(name: "whittle.prune", initial: VariantPassSnapshot()) { job in
            job.runPass(output: request.output) {
                _ = try PruningJob.run(request, progress: { progress in
                    job.publish { snapshot in
                        snapshot.state = .running
                        switch progress {
                        case .calibrating(let done, let total):
                            // Calibration is the first half of the bar, pruning the second.
                            snapshot.progress = JobProgress(completed: done, total: 2 * total)
                            snapshot.activity = "calibrating: \(done)/\(total) windows"
                        case .pruning(let tensor, let index, let count):
                            let calibrated = request.plan.needsCalibration
                            snapshot.progress = JobProgress(completed: (calibrated ? count : 0) + index - 1,
                                                            total: calibrated ? 2 * count : count)
                            snapshot.activity = "pruning \(tensor) (\(index)/\(count))"
                        case .writing(let path):
                            snapshot.progress.completed = snapshot.progress.total
                            snapshot.activity = "writing \(path)"
                        }
                    }
                }, isCancelled: { job.isCancelled })
            }
        }
    }
}
