// An in-memory Terminal for tests and headless runs: actions are queued by the test, presented
// screens are kept, so a whole main loop can be driven without a real terminal.

/// A fake terminal that replays queued actions and records what was presented.
public final class MemoryTerminal: Terminal {
    /// Columns and rows reported to the loop.
    public var size: (width: Int, height: Int)
    /// Actions still to be returned by `nextAction`, first first.
    public var pendingActions: [Action]
    /// Every screen presented, oldest first.
    public private(set) var presented: [Screen] = []

    /// A terminal of the given size that will deliver `actions` in order.
    public init(width: Int, height: Int, actions: [Action] = []) {
        size = (width, height)
        pendingActions = actions
    }

    /// The next queued action (nil when none are left, as after a timeout).
    public func nextAction(timeoutMilliseconds: Int) -> Action? {
        pendingActions.isEmpty ? nil : pendingActions.removeFirst()
    }

    /// Records `screen`.
    public func present(_ screen: Screen) { presented.append(screen) }

    /// The last screen presented, if any.
    public var lastScreen: Screen? { presented.last }
}
