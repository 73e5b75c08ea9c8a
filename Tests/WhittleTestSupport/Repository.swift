// Test support: where the repository's own files are (shipped configs, themes, sample models,
// the built binary), found from this file's path at build time.

import Foundation

/// The repository this test support was built from.
public enum Repository {
    /// The package root (this file is `Tests/WhittleTestSupport/Repository.swift`).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The absolute path of `relative` inside the repository.
    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}
