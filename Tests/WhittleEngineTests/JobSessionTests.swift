// JobSession with a small counting job: commands reach the body in order, the latest snapshot wins
// and its version grows, events arrive once, cancel wakes a waiting body and ends it, and progress
// is the job's own.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct JobSessionTests {
    static let timeout = 10.0

    enum Command: Equatable, Sendable { case add(Int), finish }
    enum Event: Equatable, Sendable { case added(Int) }
    struct Snapshot: JobSnapshot {
        var state = JobState.idle
        var total = 0
        var version = 0
        var progress: JobProgress { JobProgress(completed: total, total: 10) }
    }

    /// Adds numbers until `finish` or cancel; publishes after each command.
    static func counter() -> JobSession<Command, Snapshot, Event> {
        JobSession(name: "test.counter", initial: Snapshot()) { job in
            job.publish { $0.state = .running }
            while !job.isCancelled {
                for command in job.takeCommands(waitingSeconds: 5) {
                    switch command {
                    case .add(let n):
                        job.publish { $0.total += n }
                        job.report(.added(n))
                    case .finish:
                        job.publish { $0.state = .finished }
                        return
                    }
                }
            }
            job.publish { $0.state = .cancelled }
        }
    }

    func wait<C, S, E>(_ job: JobSession<C, S, E>, until condition: (S) -> Bool) -> S {
        do {
            return try waitUntil("the job's snapshot", timeout: Self.timeout) {
                let snapshot = job.snapshot()
                return condition(snapshot) ? snapshot : nil
            }
        } catch {
            Issue.record("\(error)")
            return job.snapshot()
        }
    }

    @Test func testJobSession_commandsApplyInOrderAndEventsArriveOnce() {
        let job = Self.counter()
        for n in 1...4 { job.send(.add(n)) }
        let done = wait(job) { $0.total == 10 }
        #expect(done.progress == JobProgress(completed: 10, total: 10) && done.progress.fraction == 1)
        #expect(done.version >= 5, "one publication per command and one at start")
        #expect(job.takeEvents() == [.added(1), .added(2), .added(3), .added(4)])
        #expect(job.takeEvents().isEmpty)
        job.send(.finish)
        #expect(job.waitUntilEnded(timeoutSeconds: Self.timeout))
        #expect(job.snapshot().state == .finished && job.snapshot().state.isTerminal)
        #expect(job.waitUntilEnded(timeoutSeconds: 0), "later waiters pass too")
    }

    @Test func testJobSession_cancelWakesAWaitingBodyAndEndsIt() {
        let job = Self.counter()
        _ = wait(job) { $0.state == .running }
        let start = Date()
        job.cancel()
        #expect(job.isCancelled)
        #expect(job.waitUntilEnded(timeoutSeconds: Self.timeout))
        #expect(Date().timeIntervalSince(start) < 4, "the 5 s wait was cut short")
        #expect(job.snapshot().state == .cancelled)
        #expect(JobState.failed("boom").failure == "boom" && JobState.running.failure == nil)
    }
}
