// One quantization pass as a job: `Quantizer.run` on its own thread, publishing which tensor it is
// rounding, cancellable between tensors and before publishing (a cancelled or failed pass leaves no
// variant directory behind: it is published atomically or not at all; the parent is made if missing). The workbench's Compress
// screen starts one per Apply.

import Foundation

/// A `Quantizer.run` on its own thread.
public final class QuantizationSession: Sendable {
    public enum Event: Equatable, Sendable {
        /// The variant directory was published.
        case finished(directory: String)
        case failed(String)
        /// Cancelled; nothing was written.
        case cancelled
    }

    public struct Snapshot: JobSnapshot {
        public var state = JobState.loading
        public var version = 0
        public var progress = JobProgress()
        /// The tensor being rounded, or "writing DIR".
        public var activity: String?
    }

    /// A pass takes no commands once started (only `cancel`).
    public enum Command: Sendable {}

    typealias Job = JobSession<Command, Snapshot, Event>
    let job: Job
    public let output: String

    public init(_ request: Quantizer.Request) {
        output = request.output
        job = Job(name: "whittle.quantize", initial: Snapshot()) { job in
            do {
                // The variants directory is made on first use; the variant itself appears whole or not at all.
                let parent = AtomicDirectory.parent(of: AtomicDirectory.normalized(request.output))
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
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
                job.publish { $0.state = .finished }
                job.report(.finished(directory: AtomicDirectory.normalized(request.output)))
            } catch let error as WhittleError where error.kind == .cancelled {
                job.publish { $0.state = .cancelled }
                job.report(.cancelled)
            } catch {
                let message = TrainingSession.describe(error)
                job.publish { $0.state = .failed(message) }
                job.report(.failed(message))
            }
        }
    }

    public func snapshot() -> Snapshot { job.snapshot() }
    public func takeEvents() -> [Event] { job.takeEvents() }
    public func cancel() { job.cancel() }
    public var hasEnded: Bool { job.hasEnded }

    /// Waits until the pass has ended; false on timeout.
    @discardableResult
    public func waitUntilEnded(timeoutSeconds: Double) -> Bool { job.waitUntilEnded(timeoutSeconds: timeoutSeconds) }
}
