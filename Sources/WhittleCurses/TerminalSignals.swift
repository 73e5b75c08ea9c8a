// Signal handling that keeps the terminal usable: SIGINT, SIGTERM and SIGHUP only record the
// signal (the main loop sees it, restores the terminal and exits); fatal signals (SIGSEGV, SIGABRT,
// SIGBUS, SIGFPE, SIGILL, SIGTRAP) call endwin, restore the default action and re-raise, so the
// process still dies with the right status and a core dump if enabled. Their handlers replace the
// Swift runtime's backtracer (which would wait 30 s for a key on a terminal), so a crash in the
// workbench exits at once. While the screen is taken over, standard error goes to an unlinked
// temporary file (`captureStandardError`), replayed after the terminal is restored: a Swift
// "Fatal error: ..." or a library's warning then appears on the restored terminal, not on the
// alternate screen that endwin discards.

import Foundation
import CNCurses
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private let pendingSignalNumber = Atomic<Int32>(0)
private let capturedStandardError = Atomic<Int32>(-1)
private let savedStandardError = Atomic<Int32>(-1)
/// A buffer allocated up front, so the fatal-signal path allocates nothing.
nonisolated(unsafe) private let replayBuffer = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 16)

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
                TerminalSignals.replayStandardError()
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }

    /// Restores the default action for every signal `install` handled (after the terminal is restored).
    public static func uninstall() {
        for number in graceful + fatal { signal(number, SIG_DFL) }
    }

    /// Sends standard error to an unlinked temporary file until `replayStandardError` (only when it is a terminal).
    public static func captureStandardError() {
        guard isatty(STDERR_FILENO) == 1, capturedStandardError.load(ordering: .relaxed) < 0 else { return }
        let directory = FileManager.default.temporaryDirectory.path   // $TMPDIR or the system default
        var template = Array((directory + "/whittle-stderr-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let saved = dup(STDERR_FILENO)
        guard saved >= 0, dup2(fd, STDERR_FILENO) >= 0 else {
            close(fd)
            if saved >= 0 { close(saved) }
            return
        }
        savedStandardError.store(saved, ordering: .relaxed)
        capturedStandardError.store(fd, ordering: .relaxed)
    }

    /// Puts standard error back and copies what was written meanwhile to it. Async-signal-safe
    /// (dup2, pread, write, close); idempotent.
    public static func replayStandardError() {
        let fd = capturedStandardError.exchange(-1, ordering: .relaxed)
        let saved = savedStandardError.exchange(-1, ordering: .relaxed)
        guard fd >= 0, saved >= 0 else { return }
        _ = dup2(saved, STDERR_FILENO)
        close(saved)
        var offset: off_t = 0
        while true {
            let count = pread(fd, replayBuffer, 4096, offset)
            if count <= 0 { break }
            var written = 0
            while written < count {
                let result = write(STDERR_FILENO, replayBuffer + written, count - written)
                if result <= 0 { break }
                written += result
            }
            offset += off_t(count)
        }
        close(fd)
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
