// Default names of run and sweep directories: `<parent>/<name>-<yyyyMMdd-HHmmss>`, claimed with an
// atomic mkdir so that two processes started in the same second never share one (the second gets
// `-2`, then `-3`, ...). Every place that names a run without --out (train, sweep, the workbench's
// new-run dialog and --config) comes here.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum RunDirectory {
    /// Creates and returns a fresh directory `<parent>/<name>-<stamp>[-N]` (parents created as needed).
    public static func claim(parent: String = "runs", name: String, now: Date = Date()) throws -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let base = "\(parent)/\(name)-\(formatter.string(from: now))"
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw WhittleError.io("cannot create '\(parent)': \(error.localizedDescription)", hint: "check the path, permissions and free space")
        }
        for attempt in 1...10_000 {
            let path = attempt == 1 ? base : "\(base)-\(attempt)"
            if mkdir(path, 0o755) == 0 { return path }
            guard errno == EEXIST else { throw FileIO.error("create the run directory", path) }
        }
        throw WhittleError.io("no free run directory name under '\(base)'", hint: "give one with --out DIR")
    }

    /// Removes `path` if it is an empty directory (a claimed name whose run never started).
    public static func releaseIfEmpty(_ path: String) {
        _ = rmdir(path)
    }
}
