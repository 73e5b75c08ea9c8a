// What every compression pass run as a job shares (a quantization pass, a prune pass): a snapshot
// with what the engine is doing, events saying how it ended (a published variant directory, a
// failure, a cancel that wrote nothing), and the body that turns the pass's outcome into them. A
// host holds any of them as a `VariantPassSession` and treats them alike.

import Foundation

/// How a pass ended.
public enum VariantPassEvent: Equatable, Sendable {
    /// The variant directory was published.
    case finished(directory: String)
    case failed(String)
    /// Cancelled; nothing was written.
    case cancelled
}

/// A pass's published view.
public struct VariantPassSnapshot: JobSnapshot {
    public var state = JobState.loading
    public var version = 0
    public var progress = JobProgress()
    /// What the engine is doing ("h.0.attn.c_attn.weight → q4_0", "writing DIR").
    public var activity: String?

    public init() {}
}

/// A compression pass on its own thread, as its host sees it: the job it runs in and the variant
/// directory it publishes; snapshots, events, cancel and waiting are the job's (below).
public protocol VariantPassSession: AnyObject, Sendable {
    /// The variant directory the pass publishes.
    var output: String { get }
    /// The job the pass runs in.
    var job: VariantPassJob { get }
}

extension VariantPassSession {
    public func snapshot() -> VariantPassSnapshot { job.snapshot() }
    public func takeEvents() -> [VariantPassEvent] { job.takeEvents() }
    public func cancel() { job.cancel() }
    public var hasEnded: Bool { job.hasEnded }
    /// Waits until the pass has ended; false on timeout.
    @discardableResult
    public func waitUntilEnded(timeoutSeconds: Double) -> Bool { job.waitUntilEnded(timeoutSeconds: timeoutSeconds) }
}

/// The job every pass runs in: it takes no commands once started (only `cancel`).
public typealias VariantPassJob = JobSession<Never, VariantPassSnapshot, VariantPassEvent>

extension JobSession where Command == Never, Snapshot == VariantPassSnapshot, Event == VariantPassEvent {
    /// Runs `body` (which publishes its progress) after making `output`'s parent directory (unless
    /// `makingParent` is false: the body makes it), and reports how it ended: `.finished` with the
    /// normalized output, `.cancelled` on a `.cancelled` error, else `.failed`.
    func runPass(output: String, makingParent: Bool = true, _ body: () throws -> Void) {
        do {
            // The variants directory is made on first use; the variant itself appears whole or not at all.
            let normalized = AtomicDirectory.normalized(output)
            if makingParent {
                try FileManager.default.createDirectory(atPath: AtomicDirectory.parent(of: normalized), withIntermediateDirectories: true)
            }
            try body()
            publish { $0.state = .finished }
            report(.finished(directory: normalized))
        } catch let error as WhittleError where error.kind == .cancelled {
            publish { $0.state = .cancelled }
            report(.cancelled)
        } catch {
            let message = TrainingSession.describe(error)
            publish { $0.state = .failed(message) }
            report(.failed(message))
        }
    }
}
