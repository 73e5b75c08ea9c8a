// The workbench's file work as a job: listing model and run directories, checking a new run
// (validation, the dataset's vocabulary, a memory estimate) and resolving what to open, each
// answered by an event. It runs a RunLauncher on a JobSession thread, so a host's UI thread never
// reads the disk; dataset vocabularies are remembered between checks.

import Foundation

/// A RunLauncher behind a JobSession: requests in, answers out as events.
public final class RunLibrary: Sendable {
    public enum Command: Equatable, Sendable {
        case list
        case check(NewRunRequest)
        case resolve(RunReplacement)
        case stop
    }

    public enum Event: Sendable {
        case listed([RunEntry])
        /// The check of `request`: its estimate, or what is wrong.
        case checked(NewRunRequest, Result<NewRunEstimate, WhittleError>)
        /// Where `replacement` starts from and its display name, or why it cannot be opened.
        case resolved(RunReplacement, Result<(origin: TrainingSession.Origin, name: String), WhittleError>)
    }

    /// Nothing to show but whether the thread is up; the answers are events.
    public struct Snapshot: JobSnapshot {
        public var state = JobState.idle
        public var version = 0
        public var progress: JobProgress { JobProgress() }
    }

    typealias Job = JobSession<Command, Snapshot, Event>
    let job: Job
    public let launcher: RunLauncher

    public init(launcher: RunLauncher) {
        self.launcher = launcher
        job = Job(name: "whittle.runs", initial: Snapshot()) { job in RunLibrary.main(job, launcher) }
    }

    public func send(_ command: Command) { job.send(command) }
    public func takeEvents() -> [Event] { job.takeEvents() }

    /// Ends the thread; false on timeout.
    @discardableResult
    public func stop(timeoutSeconds: Double = 5) -> Bool {
        job.send(.stop)
        return job.waitUntilEnded(timeoutSeconds: timeoutSeconds)
    }

    private static func main(_ job: Job, _ launcher: RunLauncher) {
        var vocabularies: [String: Int] = [:]
        while !job.isCancelled {
            for command in job.takeCommands(waitingSeconds: 1) {
                switch command {
                case .stop:
                    job.publish { $0.state = .stopped }
                    return
                case .list:
                    job.report(.listed(launcher.listEntries()))
                case .check(let request):
                    let result = Result { () throws(WhittleError) -> NewRunEstimate in
                        try wrapping {
                            try launcher.estimate(request) { path in
                                if let known = vocabularies[path] { return known }
                                let size = try RunLauncher.vocabularySize(ofFile: path)
                                vocabularies[path] = size
                                return size
                            }
                        }
                    }
                    job.report(.checked(request, result))
                case .resolve(let replacement):
                    let result = Result { () throws(WhittleError) in
                        try wrapping { try launcher.origin(for: replacement) }
                    }
                    job.report(.resolved(replacement, result.map { (origin: $0.0, name: $0.1) }))
                }
            }
        }
    }

    /// Runs `body`, turning any error into a WhittleError (its own, or a described one).
    private static func wrapping<T>(_ body: () throws -> T) throws(WhittleError) -> T {
        do {
            return try body()
        } catch let error as WhittleError {
            throw error
        } catch {
            throw WhittleError.io(String(describing: error), hint: "")
        }
    }
}
