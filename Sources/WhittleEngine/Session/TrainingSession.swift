// A training run as a job: a `JobSession` whose body loads a `TrainingRun` and drives it with a
// `SessionDriver`. Commands apply at the next step boundary; after every step the driver publishes
// a snapshot (latest wins) that a reader copies in O(1), so the training thread never waits for the
// UI. Preparing the run (reading the corpus, allocating the model) also happens on the job's
// thread, so a host can draw at once.

import Foundation

/// Owns a `TrainingRun` on a dedicated thread; one client of `JobSession`.
public final class TrainingSession: Sendable {
    /// The generic session the run lives in.
    typealias Job = JobSession<Command, Snapshot, Event>
    let job: Job
    /// Source named in validation messages for live edits.
    public static let editSource = "the workbench"
    /// Steps averaged for the ETA.
    static let etaWindow = 50

    /// Starts the thread, which prepares the run from `origin` and then waits for commands
    /// (send `.run` to train). Errors while preparing are published as `.failed`. The thread keeps the
    /// session alive until it is told to `stop` (or cancelled), so every session must be stopped.
    public init(origin: Origin) {
        job = Job(name: "whittle.training", initial: Snapshot(directory: origin.directory), stackSize: 16 << 20) { job in
            TrainingSession.main(job, origin)
        }
    }

    /// Queues `command`; it applies at the next step boundary.
    public func send(_ command: Command) { job.send(command) }

    /// The latest published snapshot (a copy; cheap).
    public func snapshot() -> Snapshot { job.snapshot() }

    /// Events since the last call, oldest first.
    public func takeEvents() -> [Event] { job.takeEvents() }

    /// Whether the thread has ended.
    public var hasEnded: Bool { job.hasEnded }

    /// Waits until the thread has ended; false on timeout.
    @discardableResult
    public func waitUntilEnded(timeoutSeconds: Double) -> Bool { job.waitUntilEnded(timeoutSeconds: timeoutSeconds) }

    /// Ends the run at the next step boundary without saving (the job session's cancel).
    public func cancel() { job.cancel() }

    /// Sends `.stop(saving:)` and waits for the thread; false on timeout.
    @discardableResult
    public func stop(saving: Bool = true, timeoutSeconds: Double = 60) -> Bool {
        send(.stop(saving: saving))
        return waitUntilEnded(timeoutSeconds: timeoutSeconds)
    }

    // MARK: - The training thread

    private static func main(_ job: Job, _ origin: Origin) {
        let run: TrainingRun
        do {
            run = try open(origin)
        } catch {
            let message = describe(error)
            job.publish { $0.state = .failed(message) }
            job.report(.failed(message))
            waitForStop(job, failure: message)
            return
        }
        SessionDriver(job: job, run: run).loop()
    }

    /// After a failed load: keep answering until told to stop (or cancelled).
    private static func waitForStop(_ job: Job, failure: String) {
        while !job.isCancelled {
            for command in job.takeCommands(waitingSeconds: 0.25) {
                if case .stop = command { return }
                if command == .copyModel {
                    job.report(.modelCopyFailed("no model: \(failure)"))
                    continue
                }
                switch command {
                case .pruneNow, .quantizeNow:
                    job.report(.compressionFailed("no model: \(failure)"))
                    continue
                default: break
                }
                job.report(.notice("cannot train: \(failure)"))
            }
        }
    }

    static func open(_ origin: Origin) throws -> TrainingRun {
        switch origin {
        // The workbench asks before it starts a long run (the new-run dialog, the prompt before the terminal opens).
        case .start(let config, let directory): try TrainingRun.start(config: config, directory: directory, confirmedLong: true)
        case .resume(let directory, let overrides): try TrainingRun.resume(directory: directory, overrides: overrides, confirmedLong: true)
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
