// The one place that decides whether a request the user sized fits this machine: the bytes it will
// allocate (predicted from the same dimensions the ledger uses, before anything is allocated) against
// the memory the machine has available (/proc/meminfo MemAvailable, else physical memory) with a
// safety margin, and the time a run will take (a FLOP estimate at an assumed sustained rate) against
// what counts as "very long". Settings, model files, evaluation batches, generation lengths and the
// workbench's frame sizes all go through `check`; refusals name the figure and a fix.
// `WHITTLE_MEMORY_LIMIT` (bytes) overrides the machine's figure, for tests and for sharing a machine.

import Foundation

/// Memory and time limits for work sized by user input.
public struct ResourceBudget: Sendable, Equatable {
    /// Bytes the machine has available for this process (before the margin).
    public var availableBytes: Double
    /// Where `availableBytes` came from, for messages ("MemAvailable", "WHITTLE_MEMORY_LIMIT", ...).
    public var source: String

    /// Share of the available memory a request may use (the rest is the margin for the OS, the
    /// corpus, the UI and allocator slack).
    public static let usableFraction = 0.8
    /// A run predicted to take longer than this asks for `--force` (CLI) or a confirmation (workbench).
    public static let longRunSeconds: Double = 3600
    /// Sustained FLOP/s assumed per thread for time estimates: about half of one core's measured fp32
    /// FMA peak here (`whittle bench train` measures the real figure), so estimates err long.
    public static let assumedFlopsPerThread: Double = 50e9

    public init(availableBytes: Double, source: String) {
        self.availableBytes = availableBytes
        self.source = source
    }

    /// The budget of this machine now: `WHITTLE_MEMORY_LIMIT` if set, else MemAvailable, else physical memory.
    public static func current() -> ResourceBudget {
        if let text = ProcessInfo.processInfo.environment["WHITTLE_MEMORY_LIMIT"], let bytes = Double(text), bytes > 0 {
            return ResourceBudget(availableBytes: bytes, source: "WHITTLE_MEMORY_LIMIT")
        }
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kib = Double(line.split(separator: " ").dropFirst().first ?? "") {
            return ResourceBudget(availableBytes: kib * 1024, source: "available memory (MemAvailable)")
        }
        return ResourceBudget(availableBytes: Double(ProcessInfo.processInfo.physicalMemory), source: "physical memory")
    }

    /// Bytes a single request may allocate.
    public var limitBytes: Double { availableBytes * Self.usableFraction }

    /// Throws when `bytes` (a prediction; may be astronomically large or non-finite) exceed the limit:
    /// `.invalidConfig` for settings (exit 64), `.invalidFile` for files (exit 65).
    public func check(_ bytes: Double, for what: String, fix: String, kind: WhittleError.Kind = .invalidConfig) throws {
        guard bytes.isFinite, bytes <= limitBytes else {
            throw WhittleError(kind, "\(what) would need \(Self.formatBytes(bytes)) of memory; this machine allows \(Self.formatBytes(limitBytes)) (\(Int(Self.usableFraction * 100))% of \(Self.formatBytes(availableBytes)) \(source))",
                               hint: fix)
        }
    }

    /// Seconds `flops` take at the assumed rate on `threads` threads (at most the machine's cores).
    public static func estimatedSeconds(flops: Double, threads: Int) -> Double {
        let usable = max(1, min(threads, ProcessInfo.processInfo.activeProcessorCount))
        return flops / (assumedFlopsPerThread * Double(usable))
    }

    /// Throws `.needsConfirmation` when `seconds` exceed `longRunSeconds` and the user has not agreed.
    public static func checkDuration(_ seconds: Double, for what: String, confirmed: Bool, fix: String) throws {
        guard !confirmed, !(seconds.isFinite && seconds <= longRunSeconds) else { return }
        throw WhittleError(.needsConfirmation,
                           "\(what) would take about \(formatSeconds(seconds)) (a FLOP estimate at an assumed \(Int(assumedFlopsPerThread / 1e9)) GFLOP/s per core)",
                           hint: fix)
    }

    /// "1.5 GiB", "12.0 MiB", "3.2 EiB", "∞".
    public static func formatBytes(_ bytes: Double) -> String {
        guard bytes.isFinite else { return "an unbounded amount" }
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
        var value = bytes, index = 0
        while value >= 1024 && index < units.count - 1 { value /= 1024; index += 1 }
        return index == 0 ? "\(Int(value)) bytes" : String(format: "%.1f %@", value, units[index])
    }

    /// "45 minutes", "5.2 hours", "3.1 days", "12 years".
    public static func formatSeconds(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "forever" }
        if seconds < 120 { return String(format: "%.0f seconds", seconds) }
        if seconds < 7200 { return String(format: "%.0f minutes", seconds / 60) }
        if seconds < 172_800 { return String(format: "%.1f hours", seconds / 3600) }
        if seconds < 63_072_000 { return String(format: "%.1f days", seconds / 86400) }
        return String(format: "%.0f years", seconds / 31_536_000)
    }
}
