// A training run on its own thread, driven by commands and observed through snapshots: what the
// workbench (or any host) uses to train while it draws. Commands queue under a mutex and apply at
// the next step boundary; after every step the thread publishes a snapshot (latest wins) that a
// reader copies in O(1) — the training thread never waits for the UI. Preparing the run (reading
// the corpus, allocating the model) also happens on the thread, so a host can draw at once.

import Dispatch
import Foundation
import Synchronization

/// Owns a `TrainingRun` on a dedicated thread.
public final class TrainingSession: Sendable {
    private struct Shared {
        var commands: [Command] = []
        var events: [Event] = []
        var snapshot: Snapshot
    }

    private let shared: Mutex<Shared>
    /// Signalled on every command, so an idle thread wakes at once.
    private let wake = DispatchSemaphore(value: 0)
    /// Signalled once when the thread ends.
    private let ended = DispatchSemaphore(value: 0)
    private let endedFlag = Atomic<Bool>(false)
    /// Source named in validation messages for live edits.
    static let editSource = "the workbench"
    /// Steps averaged for the ETA.
    static let etaWindow = 50

    /// Starts the thread, which prepares the run from `origin` and then waits for commands
    /// (send `.run` to train). Errors while preparing are published as `.failed`. The thread keeps the
    /// session alive until it is told to `stop`, so every session must be stopped.
    public init(origin: Origin) {
        shared = Mutex(Shared(snapshot: Snapshot(directory: origin.directory)))
        let thread = Thread { [self] in
            self.threadMain(origin)
            self.endedFlag.store(true, ordering: .releasing)
            self.ended.signal()
        }
        thread.name = "whittle.training"
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// Queues `command`; it applies at the next step boundary.
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

    /// Whether the thread has ended.
    public var hasEnded: Bool { endedFlag.load(ordering: .acquiring) }

    /// Waits until the thread has ended; false on timeout.
    @discardableResult
    public func waitUntilEnded(timeoutSeconds: Double) -> Bool {
        if hasEnded { return true }
        guard ended.wait(timeout: .now() + timeoutSeconds) == .success else { return false }
        ended.signal()  // let later waiters through too
        return true
    }

    /// Sends `.stop(saving:)` and waits for the thread; false on timeout.
    @discardableResult
    public func stop(saving: Bool = true, timeoutSeconds: Double = 60) -> Bool {
        send(.stop(saving: saving))
        return waitUntilEnded(timeoutSeconds: timeoutSeconds)
    }

    // MARK: - Publishing

    func publish(_ change: (inout Snapshot) -> Void) {
        shared.withLock { shared in
            change(&shared.snapshot)
            shared.snapshot.version += 1
        }
    }

    func report(_ event: Event) { shared.withLock { $0.events.append(event) } }

    func takeCommands(waitingSeconds: Double) -> [Command] {
        var commands = shared.withLock { shared in
            defer { shared.commands.removeAll() }
            return shared.commands
        }
        if commands.isEmpty, waitingSeconds > 0 {
            _ = wake.wait(timeout: .now() + waitingSeconds)
            commands = shared.withLock { shared in
                defer { shared.commands.removeAll() }
                return shared.commands
            }
        }
        return commands
    }

    // MARK: - The training thread

    private func threadMain(_ origin: Origin) {
        let run: TrainingRun
        do {
            run = try Self.open(origin)
        } catch {
            let message = Self.describe(error)
            publish { $0.state = .failed(message) }
            report(.failed(message))
            waitForStop(failure: message)
            return
        }
        let driver = SessionDriver(session: self, run: run)
        driver.loop()
    }

    /// After a failed load: keep answering until told to stop.
    private func waitForStop(failure: String) {
        while true {
            for command in takeCommands(waitingSeconds: 0.25) {
                if case .stop = command {
                    publish { $0.state = .stopped }
                    return
                }
                if command == .copyModel {
                    report(.modelCopyFailed("no model: \(failure)"))
                    continue
                }
                report(.notice("cannot train: \(failure)"))
            }
        }
    }

    static func open(_ origin: Origin) throws -> TrainingRun {
        switch origin {
        case .start(let config, let directory): try TrainingRun.start(config: config, directory: directory)
        case .resume(let directory, let overrides): try TrainingRun.resume(directory: directory, overrides: overrides)
        }
    }

    /// A one-line message for any error (a WhittleError's message, without its hint).
    static func describe(_ error: any Error) -> String {
        if let error = error as? WhittleError { return error.message }
        return String(describing: error)
    }
}

extension TrainingSession {
    /// The memory ledger of `trainer` with the process's RSS now.
    public static func ledger(of trainer: Trainer) -> MemoryLedger {
        let parameters = trainer.model.layout.byteCount   // the tensor table's bytes (fp32 arena)
        let halfCopy = trainer.halfParameters?.byteCount ?? 0   // bf16/fp16: the matmul copy of the weights
        var activations = 0, workspace = 0
        // getrusage's peak can trail statm's current value slightly; the peak is never below it.
        let resident = ProcessMemory.currentResidentBytes()
        for worker in trainer.workers {
            let counts = worker.arena.byteCounts
            activations += counts.activations
            workspace += counts.scratch
        }
        return MemoryLedger(
            weights: parameters + halfCopy, gradients: trainer.workers.count * parameters,
            optimizer: trainer.optimizerState.byteCount,
            activations: activations, workspace: workspace,
            residentBytes: resident, peakResidentBytes: max(ProcessMemory.peakResidentBytes(), resident))
    }
}
