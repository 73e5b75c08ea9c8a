// A sensitivity scan as a job: `Quantizer.scan` (each tensor alone at each type, KLD to the base on
// calibration windows of the train split) on its own thread, publishing the cell it measured and
// cancellable between cells. The Compress screen starts one to draw its tensors × types map.

import Foundation

/// A `Quantizer.scan` on its own thread.
public final class SensitivityScanSession: Sendable {
    public enum Event: Equatable, Sendable {
        case finished(SensitivityMap)
        case failed(String)
        case cancelled
    }

    public struct Snapshot: JobSnapshot {
        public var state = JobState.loading
        public var version = 0
        public var progress = JobProgress()
        /// The cell just measured.
        public var activity: String?
    }

    /// A scan takes no commands once started (only `cancel`).
    public enum Command: Sendable {}

    typealias Job = JobSession<Command, Snapshot, Event>
    let job: Job
    public let basePath: String

    public init(basePath: String, calibration: Quantizer.Calibration) {
        self.basePath = basePath
        job = Job(name: "whittle.scan", initial: Snapshot()) { job in
            do {
                let map = try Quantizer.scan(basePath: basePath, calibration: calibration, progress: { progress in
                    job.publish {
                        $0.state = .running
                        $0.progress = JobProgress(completed: progress.done, total: progress.total)
                        $0.activity = "\(progress.tensor) at \(progress.format.rawValue)"
                    }
                }, isCancelled: { job.isCancelled })
                job.publish { $0.state = .finished }
                job.report(.finished(map))
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

    /// Waits until the scan has ended; false on timeout.
    @discardableResult
    public func waitUntilEnded(timeoutSeconds: Double) -> Bool { job.waitUntilEnded(timeoutSeconds: timeoutSeconds) }
}
