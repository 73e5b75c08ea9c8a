// Crash-safe publication of a model or checkpoint directory (notes/reliability.md §2.1):
// every file goes into a sibling temporary directory on the same file system, each is
// fsynced, a SHA-256 manifest is written last, and the directory appears under its final
// name by a single rename. A reader then sees either the old complete directory or the new
// complete one, and `verify` proves the bytes are the ones that were written.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes, verifies and cleans up directories published by atomic rename.
public enum AtomicDirectory {
    /// Name of the manifest file: lines `<sha256-hex>  <name>`, the `sha256sum` format.
    public static let manifestName = "MANIFEST.sha256"

    /// Publishes `files` as the directory `path`, replacing any directory already there.
    /// Order: write + fsync each file into `<path>.tmp-<pid>`, write + fsync the manifest,
    /// fsync the temporary directory, move an existing `path` aside to `<path>.old-<pid>`,
    /// rename the temporary directory to `path`, delete the old one, fsync the parent.
    /// On failure the temporary directory is removed (an old `path` is put back) and `.io` is thrown.
    public static func publish(files: [(name: String, bytes: [UInt8])], to path: String) throws {
        let target = normalized(path)
        try checkNames(files.map(\.name), target)
        let temporary = "\(target).tmp-\(getpid())"
        let aside = "\(target).old-\(getpid())"
        if FileIO.exists(temporary) { try remove(temporary) }
        guard mkdir(temporary, 0o755) == 0 else { throw FileIO.error("create directory", temporary) }
        do {
            var manifest = ""
            for file in files {
                try FileIO.writeFile(file.bytes, to: "\(temporary)/\(file.name)", sync: true)
                manifest += "\(SHA256.hex(file.bytes))  \(file.name)\n"
            }
            try FileIO.writeFile(Array(manifest.utf8), to: "\(temporary)/\(manifestName)", sync: true)
            try FileIO.syncDirectory(temporary)
            let replacing = FileIO.exists(target)
            if replacing {
                if FileIO.exists(aside) { try remove(aside) }
                guard rename(target, aside) == 0 else { throw FileIO.error("move aside the old", target) }
            }
            guard rename(temporary, target) == 0 else {
                let failure = FileIO.error("rename \(temporary) to", target)
                if replacing { _ = rename(aside, target) }
                throw failure
            }
            try FileIO.syncDirectory(parent(of: target))
            if replacing { try remove(aside) }
        } catch {
            try? remove(temporary)
            throw error
        }
    }

    /// Recomputes the SHA-256 of every file listed in the manifest. Throws `.file` naming the
    /// first file that is missing or does not match, or saying the manifest is missing/damaged.
    public static func verify(_ path: String) throws {
        let directory = normalized(path)
        for entry in try readManifest(directory) {
            let filePath = "\(directory)/\(entry.name)"
            guard FileIO.exists(filePath) else {
                throw WhittleError.file("'\(filePath)' is missing (listed in \(manifestName))",
                                        hint: "the directory is incomplete; use an older checkpoint or re-create it")
            }
            let bytes = try FileIO.readFile(filePath)
            guard SHA256.hex(bytes) == entry.hash else {
                throw WhittleError.file("'\(filePath)' does not match its SHA-256 in \(manifestName) (corrupted or modified)",
                                        hint: "use an older checkpoint or re-create this one")
            }
        }
    }

    /// Cheap completeness check (no hashing): the manifest exists, parses, and every file it
    /// lists exists. Use `verify` before trusting the contents.
    public static func isComplete(_ path: String) -> Bool {
        let directory = normalized(path)
        guard let entries = try? readManifest(directory) else { return false }
        return entries.allSatisfy { FileIO.exists("\(directory)/\($0.name)") }
    }

    /// Cleans up after interrupted publications in `parent`: deletes every `*.tmp-<pid>` entry
    /// whose process is gone, and for every `<name>.old-<pid>` either deletes it (when `<name>`
    /// exists) or renames it back to `<name>` (a crash between the two renames). Returns the
    /// names it removed or restored.
    @discardableResult
    public static func removeAbandonedTemporaries(in parent: String) throws -> [String] {
        let directory = normalized(parent)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw WhittleError.io("cannot list '\(directory)': \(error.localizedDescription)", hint: "check the path")
        }
        var handled: [String] = []
        for name in names {
            for marker in [".tmp-", ".old-"] {
                guard let range = name.range(of: marker, options: .backwards),
                      let pid = Int32(name[range.upperBound...]), !name[..<range.lowerBound].isEmpty else { continue }
                if pid != getpid(), kill(pid, 0) == 0 { continue }   // another live process owns it
                let full = "\(directory)/\(name)"
                let original = "\(directory)/\(name[..<range.lowerBound])"
                if marker == ".old-", !FileIO.exists(original) {
                    guard rename(full, original) == 0 else { throw FileIO.error("restore \(full) to", original) }
                } else {
                    try remove(full)
                }
                handled.append(name)
            }
        }
        return handled
    }

    // MARK: - Helpers

    struct ManifestEntry { var hash: String; var name: String }

    static func readManifest(_ directory: String) throws -> [ManifestEntry] {
        let manifestPath = "\(directory)/\(manifestName)"
        guard FileIO.exists(manifestPath) else {
            throw WhittleError.file("'\(directory)' has no \(manifestName); it was not completely written",
                                    hint: "use an older checkpoint, or delete this directory and save again")
        }
        let bytes = try FileIO.readFile(manifestPath)
        guard let text = UTF8Validation.string(bytes) else {
            throw WhittleError.file("'\(manifestPath)' is not UTF-8 text", hint: "the manifest is damaged; use an older checkpoint")
        }
        var entries: [ManifestEntry] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let utf8 = Array(line.utf8)
            let hexDigits = Set("0123456789abcdef".utf8)
            guard utf8.count > 66, utf8[..<64].allSatisfy(hexDigits.contains), utf8[64] == UInt8(ascii: " "),
                  utf8[65] == UInt8(ascii: " ") || utf8[65] == UInt8(ascii: "*") else {
                throw WhittleError.file("'\(manifestPath)' line \(number + 1) is not '<sha256>  <name>'",
                                        hint: "the manifest is damaged; use an older checkpoint")
            }
            let name = String(decoding: utf8[66...], as: UTF8.self)
            guard isSafeName(name) else {
                throw WhittleError.file("'\(manifestPath)' line \(number + 1) names '\(name)', which is not a plain file name",
                                        hint: "the manifest is damaged or hostile; do not use this directory")
            }
            entries.append(ManifestEntry(hash: String(decoding: utf8[..<64], as: UTF8.self), name: name))
        }
        return entries
    }

    static func isSafeName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\n") && !name.contains("\0")
    }

    static func checkNames(_ names: [String], _ target: String) throws {
        var seen = Set<String>()
        for name in names {
            guard isSafeName(name), name != manifestName, seen.insert(name).inserted else {
                throw WhittleError.io("cannot publish '\(target)': file name '\(name)' is empty, repeated, reserved or contains '/'",
                                      hint: "this is a bug in the caller: give each file a distinct plain name")
            }
        }
    }

    static func normalized(_ path: String) -> String {
        var trimmed = path
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func remove(_ path: String) throws {
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw WhittleError.io("cannot remove '\(path)': \(error.localizedDescription)", hint: "check the permissions of its parent directory")
        }
    }
}
