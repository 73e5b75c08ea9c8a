// Short, fixed-width-friendly number formats for axis labels, headers and tables: compact values
// (1.23k, 3.0e-4), byte sizes (12.5 MiB), durations (1h02m) and thousands separators.

import Foundation

/// Number formatting used across the UI.
public enum NumberFormat {
    /// A value in at most about 7 characters: "0", "12.3k", "1.25", "0.031", "3.0e-4".
    public static func compact(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        let magnitude = abs(value)
        if magnitude == 0 { return "0" }
        if magnitude >= 1e9 { return String(format: "%.1fG", value / 1e9) }
        if magnitude >= 1e6 { return String(format: "%.1fM", value / 1e6) }
        if magnitude >= 1e4 { return String(format: "%.1fk", value / 1e3) }
        if magnitude >= 100 { return String(format: "%.0f", value) }
        if magnitude >= 10 { return String(format: "%.1f", value) }
        if magnitude >= 1 { return String(format: "%.2f", value) }
        if magnitude >= 0.01 { return String(format: "%.3f", value) }
        return String(format: "%.1e", value).replacingOccurrences(of: "e-0", with: "e-")
    }

    /// A byte count with binary units: "512 B", "12.5 KiB", "3.2 MiB", "1.1 GiB".
    public static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while abs(value) >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: value >= 100 ? "%.0f %@" : "%.1f %@", value, units[unit])
    }

    /// A duration: "42s", "3m07s", "1h02m", "2d03h"; "--" when not finite or negative.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--" }
        let total = Int(seconds.rounded())
        let (d, h, m, s) = (total / 86_400, total / 3600 % 24, total / 60 % 60, total % 60)
        if d > 0 { return "\(d)d" + String(format: "%02dh", h) }
        if h > 0 { return "\(h)h" + String(format: "%02dm", m) }
        if m > 0 { return "\(m)m" + String(format: "%02ds", s) }
        return "\(s)s"
    }

    /// An integer with thousands separators: 1,234,567.
    public static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return value < 0 ? "-" + out : out
    }

    /// A short count: 950, 12.3k, 1.2M.
    public static func count(_ value: Int) -> String {
        abs(value) < 1000 ? String(value) : compact(Double(value)).replacingOccurrences(of: ".0k", with: "k")
    }
}
