// The few number spellings the command line's reports and the tables they share print: byte sizes,
// counts and plurals. One definition, so `whittle compare` and the workbench's exported tables agree.

import Foundation

/// "812 B", "3.1 KiB", "3.20 MiB".
public func formatBytes(_ bytes: Int) -> String {
    if bytes >= 1 << 20 { return String(format: "%.2f MiB", Double(bytes) / 1048576) }
    if bytes >= 1 << 10 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
    return "\(bytes) B"
}

/// "1.23M", "45.6k" or "789".
public func formatCount(_ n: Int) -> String {
    if n >= 1_000_000 { return String(format: "%.2fM", Double(n) / 1e6) }
    if n >= 10_000 { return String(format: "%.1fk", Double(n) / 1e3) }
    return String(n)
}

/// "1 worker", "2 workers".
public func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
