// The one way the engine runs a long job (a training run, a sweep, a quantization pass, a
// sensitivity scan, a distillation run) behind a host that keeps drawing: the job's body runs on
// its own thread; the host sends commands (queued under a mutex, the body takes them at its own
// boundaries), reads the latest snapshot (latest wins, copied in O(1)) and takes events (each
// delivered once). `cancel()` raises a flag the body polls. No async/await: a thread, a mutex and
// two semaphores, so a job's hot loop never waits for the host.

import Dispatch
import Foundation
import Synchronization

/// What a job is doing; every job's snapshot carries one, and hosts show it as is.
public enum JobState: Equatable, Sendable {
    /// The job is being prepared (files read, memory allocated) on its thread.
    case loading
    /// Ready, not started.
    case idle
    case running
    case paused
    /// The job completed its work.
    case finished
    /// Preparing or running failed; the message says what went wrong.
    case failed(String)
    /// The job was cancelled before it completed.
    case cancelled
    /// The thread has ended after a stop command.
    case stopped

    /// The failure message, if the job failed.
    public var failure: String? { if case .failed(let message) = self { message } else { nil } }

    /// Whether the job can do no more work (finished, failed, cancelled or stopped).
    public var isTerminal: Bool {
        switch self {
        case .finished, .failed, .cancelled, .stopped: true
        case .loading, .idle, .running, .paused: false
        }
    }
}

/// How far a job has come: `completed` of `total` units (steps, runs, tensors), with an estimate.
public struct JobProgress: Equatable, Sendable {
    public var completed: Int
    public var total: Int
    /// Seconds to completion at the recent pace; nil when unknown.
    public var etaSeconds: Double?

    public init(completed: Int = 0, total: Int = 0, etaSeconds: Double? = nil) {
        self.completed = completed
        self.total = total
        self.etaSeconds = etaSeconds
    }

    /// `completed / total` in [0, 1] (0 when the total is unknown).
    public var fraction: Double { total > 0 ? min(Double(completed) / Double(total), 1) : 0 }
}

/// A job's published view: its state, its progress and a version that grows with every publication.
public protocol JobSnapshot: Sendable {
    var state: JobState { get set }
    var progress: JobProgress { get }
    /// Increased by the session on every publication, so a reader can tell whether anything changed.
    var version: Int { get set }
}

/// A job on its own thread: commands in, snapshots and events out, cancel, progress.
public final class JobSession<Command: Sendable, Snapshot: JobSnapshot, Event: Sendable>: Sendable {
    private struct Shared {
        var commands: [Command] = []
        var events: [Event] = []
        var snapshot: Snapshot
    }

    private let shared: Mutex<Shared>
    private let cancelledFlag = Atomic<Bool>(false)
    private let endedFlag = Atomic<Bool>(false)
    /// Signalled on every command and on cancel, so a waiting body wakes at once.
    private let wake = DispatchSemaphore(value: 0)
    /// Signalled once when the body returns.
    private let ended = DispatchSemaphore(value: 0)

    /// Starts a thread named `name` that runs `body` with this session, publishing `initial` until
    /// the body publishes. The thread keeps the session alive until the body returns.
    public init(name: String, initial: Snapshot, stackSize: Int = 8 << 20,
                body: @escaping @Sendable (JobSession) -> Void) {
        shared = Mutex(Shared(snapshot: initial))
        let thread = Thread { [self] in
            body(self)
            self.endedFlag.store(true, ordering: .releasing)
            self.ended.signal()
        }
        thread.name = name
        thread.stackSize = stackSize
        thread.start()
    }

    // MARK: - The host's side

    /// Queues `command` for the body's next boundary.
    public func send(_ command: Command) {
        shared.withLock { $0.commands.append(command) }
        wake.signal()
    }

    /// The latest published snapshot (a copy; cheap).
    public func snapshot() -> Snapshot { shared.withLock { $0.snapshot } }

    /// Events since the last call, oldest first.
    public func takeEvents() -> [Event] {
        shared.withLock { shared in
            defer { shared.events.removeAll() }
            return shared.events
        }
    }

    /// Asks the body to stop as soon as it can (it polls `isCancelled`).
    public func cancel() {
        cancelledFlag.store(true, ordering: .releasing)
        wake.signal()
    }

    /// Whether `cancel()` was called.
    public var isCancelled: Bool { cancelledFlag.load(ordering: .acquiring) }

    /// Whether the body has returned.
    public var hasEnded: Bool { endedFlag.load(ordering: .acquiring) }

    /// Waits until the body has returned; false on timeout.
    @discardableResult
    public func waitUntilEnded(timeoutSeconds: Double) -> Bool {
        if hasEnded { return true }
        guard ended.wait(timeout: .now() + timeoutSeconds) == .success else { return false }
        ended.signal()  // let later waiters through too
        return true
    }

    // MARK: - The body's side (call only from the job's thread)

    /// Changes the snapshot and bumps its version.
    public func publish(_ change: (inout Snapshot) -> Void) {
        shared.withLock { shared in
            change(&shared.snapshot)
            shared.snapshot.version += 1
        }
    }

    /// Queues an event for the host.
    public func report(_ event: Event) { shared.withLock { $0.events.append(event) } }

    /// The queued commands, oldest first; when there are none, waits up to `waitingSeconds` for one
    /// (or for `cancel()`).
    public func takeCommands(waitingSeconds: Double = 0) -> [Command] {
        var commands = drainCommands()
        if commands.isEmpty, waitingSeconds > 0, !isCancelled {
            _ = wake.wait(timeout: .now() + waitingSeconds)
            commands = drainCommands()
        }
        return commands
    }

    private func drainCommands() -> [Command] {
        shared.withLock { shared in
            defer { shared.commands.removeAll() }
            return shared.commands
        }
    }
}
