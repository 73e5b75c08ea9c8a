// Runs an experiment queue one run after another, each as a child `whittle train` process (like
// `whittle sweep`: its peak RSS is its own), on a background thread. The UI polls it once a frame:
// each poll reads what the running child has appended to its log.jsonl (validation estimates for the
// overlaid curves, the step for progress) and, when a child ends, its summary.json as a table row.
// The launcher is injectable so tests run the whole flow without processes.

import Foundation
import Synchronization
import WhittleEngine

/// Starts one child run and waits for it.
public protocol ExperimentLauncher: Sendable {
    /// Runs `whittle` with `arguments` (stdout and stderr to `logPath`) and returns its exit status;
    /// ends the child early once `cancelled()` returns true.
    func run(arguments: [String], logPath: String, cancelled: @escaping @Sendable () -> Bool) -> Int32
}

/// Runs the current executable (`/proc/self/exe`, i.e. `whittle`) as the child.
public struct ProcessExperimentLauncher: ExperimentLauncher {
    public var executable: URL

    public init(executable: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()) {
        self.executable = executable
    }

    public func run(arguments: [String], logPath: String, cancelled: @escaping @Sendable () -> Bool) -> Int32 {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let handle = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        defer { try? handle?.close() }
        do { try process.run() } catch { return 127 }
        while process.isRunning {
            if cancelled() {
                process.terminate()
                process.waitUntilExit()
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// One experiment queue in progress.
public final class ExperimentRunner: Sendable {
    public let plan: ExperimentPlan
    public let directory: String
    let launcher: any ExperimentLauncher

    struct Shared {
        var runs: [ExperimentRun]
        var results: [SweepResult?]
        var running = true
        var cancelled = false
        /// Bytes of each run's log.jsonl already read.
        var offsets: [UInt64]
    }
    let shared: Mutex<Shared>
    /// Serialises log reads (the UI's polls and the runner's final read of a run).
    let tailing = Mutex(())

    public init(plan: ExperimentPlan, directory: String, launcher: any ExperimentLauncher) {
        self.plan = plan
        self.directory = directory
        self.launcher = launcher
        let runs = plan.runs.map { ExperimentRun(name: $0.name, settings: $0.settings(plan.variedKeys)) }
        shared = Mutex(Shared(runs: runs, results: Array(repeating: nil, count: runs.count),
                              offsets: Array(repeating: 0, count: runs.count)))
    }

    /// The base config's path (the children's `--config`).
    public var configPath: String { directory + "/base.toml" }
    public func runDirectory(_ index: Int) -> String { directory + "/" + plan.runs[index].name }

    /// Creates the directory, writes the base config and starts the queue on its own thread.
    public func start() throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw WhittleError.io("cannot create '\(directory)': \(error.localizedDescription)", hint: "check the path")
        }
        guard FileManager.default.createFile(atPath: configPath, contents: Data(plan.base.tomlString().utf8)) else {
            throw WhittleError.io("cannot write \(configPath)", hint: "check permissions and free space")
        }
        let thread = Thread { [self] in runAll() }
        thread.name = "whittle-experiments"
        thread.start()
    }

    /// Stops the running child and skips the rest of the queue.
    public func cancel() { shared.withLock { $0.cancelled = true } }

    /// Waits (polling) until the queue has ended; false on timeout.
    @discardableResult
    public func waitUntilDone(timeoutSeconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if !shared.withLock({ $0.running }) { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    /// The queue now, after reading what running children appended to their logs.
    public func poll() -> (runs: [ExperimentRun], running: Bool) {
        let active = shared.withLock { s in s.runs.indices.filter { if case .running = s.runs[$0].status { true } else { false } } }
        for index in active { tail(index) }
        return shared.withLock { ($0.runs, $0.running) }
    }

    /// Writes sweep.md, sweep.csv and sweep.json for the runs that ended; returns the Markdown path.
    @discardableResult
    public func export() throws -> String {
        let results = shared.withLock { $0.results.compactMap { $0 } }
        try SweepTable.write(results, keys: plan.variedKeys, targetLoss: plan.targetLoss, to: directory)
        return directory + "/sweep.md"
    }

    private func runAll() {
        for (index, run) in plan.runs.enumerated() {
            if shared.withLock({ $0.cancelled }) { break }
            shared.withLock { $0.runs[index].status = .running(step: 0, total: run.config.maxIterations) }
            let out = runDirectory(index)
            let arguments = run.trainArguments(configPath: configPath, outDirectory: out)
            let status = launcher.run(arguments: arguments, logPath: out + ".log") { [self] in
                shared.withLock { $0.cancelled }
            }
            tail(index)
            let result: SweepResult
            if status == 0, let read = try? SweepResult.read(run: run, directory: out, variedKeys: plan.variedKeys,
                                                             targetLoss: plan.targetLoss) {
                result = read
            } else {
                let cancelled = shared.withLock { $0.cancelled }
                let reason = cancelled ? "cancelled" : SweepResult.failureReason(logPath: out + ".log", status: status)
                result = SweepResult.failed(run: run, variedKeys: plan.variedKeys, reason: reason)
            }
            shared.withLock { s in
                s.results[index] = result
                s.runs[index].result = result
                s.runs[index].status = result.status == "ok" ? .finished : .failed(String(result.status.dropFirst(8)))
            }
        }
        shared.withLock { s in
            for index in s.runs.indices where s.runs[index].status == .queued { s.runs[index].status = .failed("cancelled") }
            s.running = false
        }
    }

    /// Reads the complete new lines of run `index`'s log.jsonl into its progress and curve.
    private func tail(_ index: Int) {
        tailing.withLock { _ in tailLocked(index) }
    }

    private func tailLocked(_ index: Int) {
        let path = runDirectory(index) + "/" + TrainingRun.logName
        let offset = shared.withLock { $0.offsets[index] }
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd(), !data.isEmpty,
            let lastNewline = data.lastIndex(of: UInt8(ascii: "\n"))
        else { return }
        let complete = data[data.startIndex...lastNewline]
        var records: [StepRecord] = []
        for line in complete.split(separator: UInt8(ascii: "\n")) {
            if let record = try? JSONDecoder().decode(StepRecord.self, from: Data(line)) { records.append(record) }
        }
        let total = plan.runs[index].config.maxIterations
        shared.withLock { s in
            s.offsets[index] = offset + UInt64(complete.count)
            for record in records {
                if case .running = s.runs[index].status { s.runs[index].status = .running(step: record.step, total: total) }
                if let estimate = record.evaluation {
                    s.runs[index].validationLoss.append(
                        MetricPoint(step: record.step, seconds: 0, value: Double(estimate.validation)))
                }
            }
        }
    }
}
