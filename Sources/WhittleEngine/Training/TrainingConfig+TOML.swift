// Reading and writing training configurations as flat TOML files, and `--set key=value`
// overrides. A file starts from the defaults (nanoGPT's CPU Shakespeare recipe) and sets only
// the keys it names; every key goes through the table in `TrainingConfig+Keys.swift`, so files,
// overrides and the TUI report unknown keys and wrong types the same way. Loading checks names
// and types only; call `validate()` once all overrides are applied.

import Foundation
import TOMLKit

extension TrainingConfig {
    /// Reads the TOML config file at `path`.
    ///
    /// Keys not in the file keep their defaults. The file is flat: `[sections]` and dotted keys are
    /// rejected. A relative `dataset` path is kept as written and is resolved against the current
    /// working directory when the data is opened (see `datasetURL`), not against the config file.
    /// Ranges are not checked here; call `validate()` after applying overrides.
    /// - Throws: `WhittleError` (`.io`) if the file cannot be read, `.invalidConfig` for TOML syntax
    ///   errors (with line and column), unknown keys (with the closest known key) and wrong types.
    public static func load(path: String) throws -> TrainingConfig {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let missing = !FileManager.default.fileExists(atPath: path)
            throw WhittleError.io(
                missing ? "config file \(path) does not exist" : "cannot read config file \(path): \(error.localizedDescription)",
                hint: missing ? "check the path; example configs are in configs/ (e.g. configs/shakespeare-char-cpu.toml)" : "")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw WhittleError.config("config file \(path) is not valid UTF-8 text", hint: "TOML files must be UTF-8")
        }
        return try TrainingConfig(toml: text, source: path)
    }

    /// Parses a TOML document; `source` (usually the file path) names it in error messages.
    ///
    /// Starts from the defaults and applies every key in the document; see `load(path:)`.
    /// - Throws: `WhittleError.config` for syntax errors, tables, unknown keys and wrong types.
    public init(toml: String, source: String) throws {
        try Self.checkTOMLCharacters(toml, source: source)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: toml)
        } catch let error as TOMLParseError {
            let position = error.source.begin
            let duplicate = error.description.contains("redefine")
            throw WhittleError.config(
                "\(source):\(position.line):\(position.column): \(duplicate ? "a key is given twice" : "TOML syntax error"): \(error.description)",
                hint: duplicate ? "each key may appear once; delete one of the two lines (use --set key=value to override a value)"
                    : "each line is `key = value`; strings need double quotes, e.g. dataset = \"datasets/tinyshakespeare.txt\"")
        }
        self.init()
        // toml++ keeps keys in a sorted map, so errors are reported in key order, not line order.
        for name in table.keys {
            guard let element = table[name] else { continue }
            let key: ConfigKey
            if element.type == .table {
                let inner = element.table?.keys.first.map { "`\($0) = ...`" } ?? "its keys"
                throw WhittleError.config(
                    "`\(name)` in \(source) is a table; Whittle config files are flat",
                    hint: "remove the [\(name)] header (or the `\(name).` prefix) and write \(inner) at the top level")
            }
            key = try Self.requireKey(name, source: source)
            try key.set(Self.configValue(element, key: key, source: source), in: &self, source: source)
        }
    }

    /// Applies one `--set key=value` override, parsing `value` per the key's type.
    ///
    /// Whitespace around the key and value is ignored; strings may be quoted; `lr_decay_iters=none`
    /// clears the optional key. Ranges are not checked; call `validate()` afterwards.
    /// - Throws: `WhittleError.config` for a missing `=`, an unknown key or a value of the wrong type.
    /// `source` names where the setting came from in messages (by default `--set key=value`).
    public mutating func apply(override: String, source: String? = nil) throws {
        let source = source ?? "--set \(override)"
        guard let equals = override.firstIndex(of: "=") else {
            let name = override.trimmingWhitespace()
            let known = Self.key(named: name) ?? Self.suggestedKey(for: name).flatMap(Self.key(named:))
            let example = known.map { "\($0.name)=\($0.value(in: TrainingConfig()))" } ?? "learning_rate=3e-4"
            throw WhittleError.config("override `\(override)` has no value; overrides are key=value",
                                      hint: "for example --set \(example)")
        }
        let name = override[..<equals].description.trimmingWhitespace()
        let text = override[override.index(after: equals)...].description
        guard !name.isEmpty else {
            throw WhittleError.config("override `\(override)` has no key before `=`", hint: "for example --set max_iters=500")
        }
        let key = try Self.requireKey(name, source: source)
        try key.set(key.parse(text, source: source), in: &self, source: source)
    }

    /// Applies overrides in order (later ones win), as given by repeated `--set` options.
    public mutating func apply(overrides: [String]) throws {
        for override in overrides { try apply(override: override) }
    }

    /// The config as a TOML document: every key, each preceded by its description as a comment.
    ///
    /// Run directories store this so a run records the exact settings it used;
    /// `TrainingConfig(toml:source:)` reads it back equal. Unset optional keys are written commented out.
    public func tomlString() -> String {
        var lines = [
            "# Whittle training configuration: every setting, with the value this run used.",
            "# Flat TOML (no [sections]); keys follow nanoGPT's names. A relative dataset path",
            "# is resolved against the working directory.",
        ]
        for group in ConfigKey.Group.allCases {
            lines.append("")
            lines.append("# --- \(group.title) ---")
            for key in Self.keys where key.group == group {
                lines.append("")
                lines.append("# \(key.summary) (\(key.type))")
                let value = key.value(in: self)
                lines.append(value == .unset ? "# \(key.name) is unset; write `\(key.name) = ...` to set it" : "\(key.name) = \(value)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The dataset path as a file URL; a relative path is resolved against the current working directory.
    public var datasetURL: URL {
        let base = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        return URL(fileURLWithPath: datasetPath, relativeTo: base).standardizedFileURL
    }

    /// Converts a TOML value to a `ConfigValue`, rejecting TOML types no key uses.
    private static func configValue(_ element: TOMLValueConvertible, key: ConfigKey, source: String) throws(WhittleError) -> ConfigValue {
        switch element.type {
        case .int: if let value = element.int { return .int(value) }
        case .double: if let value = element.double { return .float(value) }
        case .bool: if let value = element.bool { return .bool(value) }
        case .string: if let value = element.string { return .string(value) }
        default: break
        }
        let given: String
        switch element.type {
        case .array: given = "an array"
        case .date, .time, .dateTime: given = "a date/time \(element.debugDescription)"
        default: given = element.type.rawValue
        }
        throw WhittleError.config("`\(key.name)` in \(source) must be \(key.type.expectation) (got \(given))",
                                  hint: "config values are single numbers, booleans or strings")
    }
}

extension TrainingConfig {
    /// Largest config file read (a real one is a few kilobytes).
    static let tomlByteLimit = 1 << 20

    /// Refuses, before toml++ sees it, what TOML never allows or Whittle never reads and toml++ aborts on
    /// (instead of reporting an error): control characters other than tab, LF and CR (e.g. `[` followed by
    /// U+0007), `[[` headers, and files far larger than any config.
    static func checkTOMLCharacters(_ toml: String, source: String) throws {
        guard toml.utf8.count <= tomlByteLimit else {
            throw WhittleError.config("\(source) is \(toml.utf8.count) bytes; a config is at most \(tomlByteLimit)",
                                      hint: "check that the path names a TOML config file")
        }
        var line = 1, column = 1
        for scalar in toml.unicodeScalars {
            if scalar == "\n" { line += 1; column = 1; continue }
            let value = scalar.value
            if (value < 0x20 && value != 0x09 && value != 0x0D) || value == 0x7F {
                throw WhittleError.config(String(format: "%@:%d:%d: TOML does not allow the control character U+%04X", source, line, column, value),
                                          hint: "remove it (escape it as \\u%04X inside a string); the file may not be a text config".replacingOccurrences(of: "%04X", with: String(format: "%04X", value)))
            }
            column += 1
        }
        // toml++ also aborts on `[[` followed by anything but a key; configs have no arrays of tables anyway.
        for (index, text) in toml.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where text.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("[[") {
            throw WhittleError.config("\(source):\(index + 1): `[[...]]` (an array of tables) is not a config key; Whittle config files are flat",
                                      hint: "write each setting as `key = value` at the top level (`whittle train --list-keys`)")
        }
    }
}
