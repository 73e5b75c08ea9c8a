// An experiment queue as a job: a `JobSession` whose body runs the plan's runs one after another,
// each as a child `whittle train` (see ExperimentLauncher), under one directory. While a child runs,
// the body reads the complete new lines of its log.jsonl (the step for progress, validation estimates
// for the curves) and publishes them; when it ends, its summary.json becomes a table row. `cancel()`
// ends the running child and skips the rest; the thread then stays to answer `export` until `stop`.
// `whittle sweep` and the workbench's Experiments screen both run their queues here.

import Foundation
import Synchronization

/// One experiment queue on its own thread; a client of `JobSession`.
public final class ExperimentSession: Sendable {
    public enum Command: Equatable, Sendable {
        /// Write sweep.md, sweep.csv and sweep.json for the runs that ended (answered by an event).
        case export
        /// End the thread (after cancelling a queue still going).
        case stop
    }

    public enum Event: Equatable, Sendable {
        case runStarted(index: Int, name: String)
        case runEnded(index: Int, result: SweepResult)
        /// The tables were written; `path` is the Markdown table.
        case exported(path: String)
        case exportFailed(String)
        /// The queue could not start (its directory or base config could not be written).
        case failed(String)
    }

    public struct Snapshot: JobSnapshot {
        public var state = JobState.loading
        /// Where the runs, their logs and the tables go (final once the state leaves `loading`).
        public var directory: String
        public var runs: [ExperimentRun]
        public var version = 0

        /// Runs that ended of all runs.
        public var progress: JobProgress { JobProgress(completed: runs.filter(\.status.isDone).count, total: runs.count) }
    }

    typealias Job = JobSession<Command, Snapshot, Event>
    let job: Job
    public let plan: ExperimentPlan

    /// Starts the queue at once on its own thread, in `directory` (with `fresh`, in `directory-2`,
    /// `-3`, ... when it exists already). With `configPath` nil the plan's base config is written to
    /// `base.toml` in the directory for the children.
    public init(plan: ExperimentPlan, directory: String, launcher: any ExperimentLauncher, configPath: String? = nil,
                fresh: Bool = false) {
        self.plan = plan
        let runs = plan.runs.map { ExperimentRun(name: $0.name, settings: $0.settings(plan.variedKeys)) }
        let queue = Queue(plan: plan, configPath: configPath, fresh: fresh, launcher: launcher)
        job = Job(name: "whittle.experiments", initial: Snapshot(directory: directory, runs: runs)) { job in
            queue.main(job, directory: directory)
        }
    }

    /// Where the runs and tables go (see `Snapshot.directory`).
    public var directory: String { snapshot().directory }

    public func send(_ command: Command) { job.send(command) }
    public func snapshot() -> Snapshot { job.snapshot() }
    public func takeEvents() -> [Event] { job.takeEvents() }
    /// Ends the running child and skips the rest of the queue.
    public func cancel() { job.cancel() }
    public var hasEnded: Bool { job.hasEnded }


    /// Waits (polling) until the queue is done (finished, cancelled or failed); false on timeout.
    @discardableResult
    public func waitUntilDone(timeoutSeconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if snapshot().state.isTerminal { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    /// Cancels what is still going, ends the thread and waits for it; false on timeout.
    @discardableResult
    public func stop(timeoutSeconds: Double = 10) -> Bool {
        job.cancel()
        job.send(.stop)
        return job.waitUntilEnded(timeoutSeconds: timeoutSeconds)
    }
}

/// The job's body: everything it needs, immutable, so it can run on the job's thread.
private struct Queue: Sendable {
    let plan: ExperimentPlan
    /// The caller's config file for the children, or nil to write base.toml.
    let configPath: String?
    let fresh: Bool
    let launcher: any ExperimentLauncher

    func main(_ job: ExperimentSession.Job, directory requested: String) {
        do {
            let (directory, configPath) = try prepare(requested)
            job.publish {
                $0.directory = directory
                $0.state = .running
            }
            runAll(job, directory: directory, configPath: configPath)
        } catch {
            let message = (error as? WhittleError)?.message ?? String(describing: error)
            job.publish { $0.state = .failed(message) }
            job.report(.failed(message))
        }
        serve(job)
    }

    /// Creates the directory (a fresh one if asked) and the children's config; returns both paths.
    func prepare(_ requested: String) throws -> (directory: String, configPath: String) {
        var directory = requested
        var suffix = 2
        while fresh, FileManager.default.fileExists(atPath: directory) {
            directory = requested + "-\(suffix)"
            suffix += 1
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw WhittleError.io("cannot create '\(directory)': \(error.localizedDescription)", hint: "check the path")
        }
        if let configPath { return (directory, configPath) }
        let base = directory + "/base.toml"
        guard FileManager.default.createFile(atPath: base, contents: Data(plan.base.tomlString().utf8)) else {
            throw WhittleError.io("cannot write \(base)", hint: "check permissions and free space")
        }
        return (directory, base)
    }

    func runAll(_ job: ExperimentSession.Job, directory: String, configPath: String) {
        for (index, run) in plan.runs.enumerated() {
            if job.isCancelled { break }
            job.publish { $0.runs[index].status = .running(step: 0, total: run.config.maxIterations) }
            job.report(.runStarted(index: index, name: run.name))
            let out = directory + "/" + run.name
            let tail = LogTail(path: out + "/" + TrainingRun.logName, total: run.config.maxIterations)
            let status = launcher.run(arguments: run.trainArguments(configPath: configPath, outDirectory: out),
                                      logPath: out + ".log") {
                tail.read(into: job, index: index)
                return job.isCancelled
            }
            tail.read(into: job, index: index)
            let result: SweepResult
            if status == 0, let read = try? SweepResult.read(run: run, directory: out, variedKeys: plan.variedKeys,
                                                             targetLoss: plan.targetLoss) {
                result = read
            } else {
                let reason = job.isCancelled ? "cancelled" : SweepResult.failureReason(logPath: out + ".log", status: status)
                result = SweepResult.failed(run: run, variedKeys: plan.variedKeys, reason: reason)
            }
            job.publish { s in
                s.runs[index].result = result
                s.runs[index].status = result.status == "ok" ? .finished : .failed(String(result.status.dropFirst(8)))
            }
            job.report(.runEnded(index: index, result: result))
        }
        let cancelled = job.isCancelled
        job.publish { s in
            for index in s.runs.indices where s.runs[index].status == .queued { s.runs[index].status = .failed("cancelled") }
            s.state = cancelled ? .cancelled : .finished
        }
    }

    /// After the queue: answer `export` until `stop`.
    func serve(_ job: ExperimentSession.Job) {
        while true {
            for command in job.takeCommands(waitingSeconds: 0.5) {
                switch command {
                case .stop: return
                case .export: export(job)
                }
            }
        }
    }

    func export(_ job: ExperimentSession.Job) {
        let snapshot = job.snapshot()
        let directory = snapshot.directory
        let results = snapshot.runs.compactMap(\.result)
        do {
            try SweepTable.write(results, keys: plan.variedKeys, targetLoss: plan.targetLoss, to: directory)
            job.report(.exported(path: directory + "/sweep.md"))
        } catch {
            job.report(.exportFailed((error as? WhittleError)?.message ?? String(describing: error)))
        }
    }
}

/// Reads the complete new lines of a running child's log.jsonl into its run's progress and curve.
private final class LogTail: Sendable {
    let path: String
    let total: Int
    /// Bytes already read.
    private let offset = Mutex<UInt64>(0)

    init(path: String, total: Int) {
        self.path = path
        self.total = total
    }

    func read(into job: ExperimentSession.Job, index: Int) {
        let records: [StepRecord] = offset.withLock { offset in
            guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
            defer { try? handle.close() }
            guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd(), !data.isEmpty,
                  let lastNewline = data.lastIndex(of: UInt8(ascii: "\n"))
            else { return [] }
            let complete = data[data.startIndex...lastNewline]
            offset += UInt64(complete.count)
            return complete.split(separator: UInt8(ascii: "\n")).compactMap {
                try? JSONDecoder().decode(StepRecord.self, from: Data($0))
            }
        }
        guard !records.isEmpty else { return }
        job.publish { s in
            for record in records {
                if case .running = s.runs[index].status { s.runs[index].status = .running(step: record.step, total: total) }
                if let estimate = record.evaluation {
                    s.runs[index].validationLoss.append(ValidationPoint(step: record.step, loss: Double(estimate.validation)))
                }
            }
        }
    }
}
