// One quantization pass as a job: `Quantizer.run` on its own thread, publishing which tensor it is
// rounding, cancellable between tensors and before publishing (a cancelled or failed pass leaves no
// variant directory behind: it is published atomically or not at all; the parent is made if missing).
// The workbench's Compress screen starts one per Apply of a quantize pass.

import Foundation

/// A `Quantizer.run` on its own thread.
public final class QuantizationSession: VariantPassSession {
    public let job: VariantPassJob
    public let output: String

    public init(_ request: Quantizer.Request) {
        output = request.output
        job = VariantPassJob(name: "whittle.quantize", initial: VariantPassSnapshot()) { job in
            job.runPass(output: request.output) {
                _ = try Quantizer.run(request, progress: { progress in
                    job.publish { snapshot in
                        snapshot.state = .running
                        switch progress {
                        case .calibrating(let done, let total, let source):
                            snapshot.progress = JobProgress(completed: done, total: total)
                            snapshot.activity = "calibrating on \(source): \(done)/\(total) windows"
                        case .quantizing(let tensor, let format, let index, let count):
                            snapshot.progress = JobProgress(completed: index - 1, total: count)
                            snapshot.activity = "\(tensor) → \(format.rawValue)"
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
