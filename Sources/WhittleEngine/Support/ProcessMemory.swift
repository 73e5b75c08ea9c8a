// The process's measured memory: current resident set (/proc/self/statm) and its peak (getrusage).

import Foundation

public enum ProcessMemory {
    /// Current resident set size in bytes (0 where /proc is unavailable).
    public static func currentResidentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Peak resident set size in bytes since the process started. getrusage's figure can trail
    /// statm's current one (they count pages differently), so it is never reported below the current.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return max(Int(usage.ru_maxrss) * 1024, currentResidentBytes())
    }
}
