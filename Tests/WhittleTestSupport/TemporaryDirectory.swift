// Test support: a scratch directory under the system's temporary directory, unique per value and
// removed (with everything in it) when the value is released. Every test target uses this one.

import Foundation

/// A fresh directory removed, with its contents, when the value is released.
public final class TemporaryDirectory: Sendable {
    /// The directory's absolute path (no trailing slash).
    public let path: String

    /// Creates `<tmp>/<prefix>-<UUID>`.
    public init(prefix: String = "whittle-test") {
        let base = FileManager.default.temporaryDirectory.path
        path = (base.hasSuffix("/") ? base : base + "/") + prefix + "-" + UUID().uuidString
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot create the temporary directory \(path): \(error)")
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The directory as a file URL.
    public var url: URL { URL(fileURLWithPath: path, isDirectory: true) }

    /// The path of `relative` inside the directory.
    public func path(_ relative: String) -> String { path + "/" + relative }
}
