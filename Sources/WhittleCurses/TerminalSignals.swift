// Signal handling that keeps the terminal usable: SIGINT, SIGTERM and SIGHUP only record the
// signal (the main loop sees it, restores the terminal and exits); fatal signals (SIGSEGV, SIGABRT,
// SIGBUS, SIGFPE, SIGILL, SIGTRAP) call endwin, restore the default action and re-raise, so the
// process still dies with the right status and a core dump if enabled.

import CNCurses
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private let pendingSignalNumber = Atomic<Int32>(0)

/// Installs and queries the workbench's signal handlers.
public enum TerminalSignals {
    /// Signals that end the workbench politely.
    public static let graceful: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    /// Signals after which the process cannot continue.
    public static let fatal: [Int32] = [SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGTRAP]

    /// Installs the handlers (idempotent).
    public static func install() {
        for number in graceful {
            signal(number) { received in pendingSignalNumber.store(received, ordering: .relaxed) }
        }
        for number in fatal {
            signal(number) { received in
                endwin()
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }

    /// Restores the default action for every signal `install` handled (after the terminal is restored).
    public static func uninstall() {
        for number in graceful + fatal { signal(number, SIG_DFL) }
    }

    /// The graceful signal received since the last call, if any (clears it).
    public static func takePending() -> Int32? {
        let number = pendingSignalNumber.exchange(0, ordering: .relaxed)
        return number == 0 ? nil : number
    }

    /// After the terminal is restored: die by `number` with the default action, as the shell expects.
    public static func reraise(_ number: Int32) -> Never {
        signal(number, SIG_DFL)
        raise(number)
        exit(128 + number)
    }
}
