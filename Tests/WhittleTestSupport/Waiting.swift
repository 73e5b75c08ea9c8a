// Test support: waiting for something another thread does, on a condition with a generous
// deadline instead of a fixed sleep. `waitUntil` polls a condition (engine snapshots publish no
// notification, so a short poll is the event); `Gate` is a one-shot event one thread opens and
// another waits for. A timeout throws `TimedOut`, which fails the test and says what never happened.

import Foundation

/// Deadlines for waits. Generous: a wait normally ends in milliseconds, and the deadline only
/// decides how long a broken test hangs on a busy two-core machine before it fails.
public enum Deadline {
    /// Seconds before a wait gives up.
    public static let generous: Double = 30
    /// Seconds between two checks of a polled condition.
    public static let pollInterval: Double = 0.001
}

/// A wait that ran out of time; thrown, so the test fails naming what did not happen.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public var seconds: Double
    /// Whatever the caller knows about the state it was waiting on (may be empty).
    public var lastState: String

    public var description: String {
        "timed out after \(seconds) s waiting for \(what)" + (lastState.isEmpty ? "" : "; last state: \(lastState)")
    }
}

/// Checks `condition` until it returns a value, and returns it; throws `TimedOut` after `timeout`
/// seconds. `state` describes the last state for the failure message.
@discardableResult
public func waitUntil<T>(_ what: String, timeout: Double = Deadline.generous,
                         state: () -> String = { "" }, _ condition: () throws -> T?) throws -> T {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if let value = try condition() { return value }
        if Date() >= deadline { throw TimedOut(what: what, seconds: timeout, lastState: state()) }
        Thread.sleep(forTimeInterval: Deadline.pollInterval)
    }
}

/// Checks `condition` until it holds; throws `TimedOut` after `timeout` seconds.
public func waitUntil(_ what: String, timeout: Double = Deadline.generous,
                      state: () -> String = { "" }, _ condition: () throws -> Bool) throws {
    try waitUntil(what, timeout: timeout, state: state) { try condition() ? () : nil }
}

/// A one-shot event: `open()` once, any number of `wait`s return once it is open.
public final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var opened = false

    public init() {}

    public var isOpen: Bool {
        condition.lock()
        defer { condition.unlock() }
        return opened
    }

    public func open() {
        condition.lock()
        opened = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the gate is open or `timeout` seconds pass, or `stop()` returns true (checked
    /// every `Deadline.pollInterval` × 10); true when the gate opened.
    @discardableResult
    public func wait(timeout: Double = Deadline.generous, unless stop: () -> Bool = { false }) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !opened && Date() < deadline && !stop() {
            condition.wait(until: min(deadline, Date().addingTimeInterval(Deadline.pollInterval * 10)))
        }
        return opened
    }
}
