// Test support: golden files. A test renders something to text and compares it with a file committed
// in the repository; with WHITTLE_UPDATE_GOLDEN=1 in the environment it writes the file instead
// (then review the diff with `git diff` and commit it).

import Foundation

/// A committed text file that a test's output must equal.
public struct GoldenFile {
    /// The environment variable that rewrites golden files instead of comparing with them.
    public static let updateVariable = "WHITTLE_UPDATE_GOLDEN"

    /// Whether this run rewrites golden files.
    public static var isUpdating: Bool { ProcessInfo.processInfo.environment[updateVariable] == "1" }

    /// Absolute path of the file.
    public let path: String

    /// The golden file at `relative` inside the repository.
    public init(_ relative: String) { path = Repository.path(relative) }

    /// What differs between `actual` and the file, or nil when they are equal. When updating, writes
    /// `actual` to the file (creating its directory) and returns nil.
    public func mismatch(_ actual: String) throws -> String? {
        if Self.isUpdating {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
            return nil
        }
        guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
            return "no golden file at \(path); run with \(Self.updateVariable)=1 to write it"
        }
        if expected == actual { return nil }
        let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let got = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var report = ["\(path) differs (\(Self.updateVariable)=1 rewrites it; review with git diff):"]
        for row in 0..<max(want.count, got.count) {
            let w = row < want.count ? String(want[row]) : "<missing>"
            let g = row < got.count ? String(got[row]) : "<missing>"
            if w != g { report += ["line \(row + 1)", "  golden: |\(w)|", "  actual: |\(g)|"] }
        }
        return report.joined(separator: "\n")
    }
}
