// One training-configuration key: its name in config files, its type, a one-line description and
// how to read and write it on a `TrainingConfig`. Every path that touches settings by name (TOML
// files, `--set key=value`, the help listing, live edits in the TUI, the config a run directory
// records) goes through these values, so type checks and error messages are the same everywhere.
// The table of keys itself lives in `TrainingConfig+Keys.swift`.

/// A setting's value as it appears in a config file or on the command line, before it is
/// converted to the field's Swift type.
public enum ConfigValue: Equatable, Sendable, CustomStringConvertible {
    case int(Int)
    case float(Double)
    case bool(Bool)
    case string(String)
    /// No value: only optional keys (such as `lr_decay_iters`) accept it.
    case unset

    /// The value spelled as a TOML literal (`4`, `0.001`, `true`, `"text"`); `unset` gives `none`.
    public var description: String {
        switch self {
        case .int(let value): return String(value)
        case .float(let value): return Self.tomlFloat(value)
        case .bool(let value): return value ? "true" : "false"
        case .string(let value): return Self.tomlString(value)
        case .unset: return "none"
        }
    }

    /// What kind of value this is, with the value, for error messages ("float 4.5").
    var kindAndValue: String {
        switch self {
        case .int: return "integer \(description)"
        case .float: return "float \(description)"
        case .bool: return "boolean \(description)"
        case .string: return "string \(description)"
        case .unset: return "none"
        }
    }

    /// A TOML float literal; Swift's shortest round-tripping form always has a `.` or an exponent.
    static func tomlFloat(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return value.description
    }

    /// A TOML basic string with the escapes the TOML 1.0 spec requires.
    static func tomlString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// The type a key accepts. An integer is accepted where a float is expected, never the reverse.
public enum ConfigValueType: Equatable, Sendable, CustomStringConvertible {
    case int, float, bool, string
    /// A string restricted to the listed choices (for example a schedule name).
    case choice([String])

    /// Short name used in the help listing: `int`, `float`, `bool`, `string`, `a|b|c`.
    public var description: String {
        switch self {
        case .int: return "int"
        case .float: return "float"
        case .bool: return "bool"
        case .string: return "string"
        case .choice(let options): return options.joined(separator: "|")
        }
    }

    /// What an error message says is expected ("an integer", "one of constant, cosine, linear").
    var expectation: String {
        switch self {
        case .int: return "an integer"
        case .float: return "a number"
        case .bool: return "true or false"
        case .string: return "a string"
        case .choice(let options): return "one of " + options.map { "\"\($0)\"" }.joined(separator: ", ")
        }
    }
}

/// One named setting of a `TrainingConfig`: its config-file name, type, description, and accessors.
public struct ConfigKey: Sendable {
    /// Where a key belongs in listings and in written config files.
    public enum Group: String, CaseIterable, Sendable {
        case model, data, optimisation, evaluation, execution, distillation

        /// Heading used in the help listing and in written config files.
        public var title: String {
            switch self {
            case .model: return "Model"
            case .data: return "Data"
            case .optimisation: return "Optimisation"
            case .evaluation: return "Evaluation and checkpoints"
            case .execution: return "Execution"
            case .distillation: return "Distillation"
            }
        }
    }

    /// The key's name in config files and `--set` (nanoGPT's name where it has one).
    public let name: String
    /// The type of value the key accepts.
    public let type: ConfigValueType
    /// The section the key is listed under.
    public let group: Group
    /// One line saying what the key controls.
    public let summary: String
    /// Whether the key may be left unset (written commented out, set with `none`).
    public let isOptional: Bool

    private let read: @Sendable (TrainingConfig) -> ConfigValue
    /// Stores an already type-checked value; throws only for values its field cannot hold.
    private let write: @Sendable (inout TrainingConfig, ConfigValue, _ source: String) throws(WhittleError) -> Void

    init(name: String, type: ConfigValueType, group: Group, summary: String, isOptional: Bool = false,
         read: @escaping @Sendable (TrainingConfig) -> ConfigValue,
         write: @escaping @Sendable (inout TrainingConfig, ConfigValue, _ source: String) throws(WhittleError) -> Void) {
        self.name = name
        self.type = type
        self.group = group
        self.summary = summary
        self.isOptional = isOptional
        self.read = read
        self.write = write
    }

    /// The key's current value in `config`.
    public func value(in config: TrainingConfig) -> ConfigValue { read(config) }

    /// Sets the key in `config` after checking the value's type.
    ///
    /// `source` names where the value came from (a file path, `--set`) for error messages.
    /// - Throws: `WhittleError.config` naming the key, the expected type and the value given.
    public func set(_ value: ConfigValue, in config: inout TrainingConfig, source: String) throws(WhittleError) {
        try write(&config, checked(value, source: source), source)
    }

    /// Parses `text` as typed on a command line or in a TUI field (`4`, `1e-3`, `true`, `cosine`).
    ///
    /// Strings may be given bare or in double quotes; optional keys accept `none`.
    /// - Throws: `WhittleError.config` naming the key, the expected type and the text given.
    public func parse(_ text: String, source: String) throws(WhittleError) -> ConfigValue {
        let trimmed = text.trimmingWhitespace()
        if isOptional, trimmed == "none" { return .unset }
        let value: ConfigValue?
        switch type {
        case .int: value = Int(trimmed.replacingUnderscores()).map(ConfigValue.int)
        case .float: value = Self.parseFloat(trimmed)
        case .bool: value = trimmed == "true" ? .bool(true) : trimmed == "false" ? .bool(false) : nil
        case .string, .choice: value = .string(trimmed.unquoted())
        }
        guard let value else {
            throw mismatch(given: "`\(trimmed)`" + Self.describeText(trimmed),
                           givenFloat: Self.parseFloat(trimmed) != nil, source: source)
        }
        return try checked(value, source: source)
    }

    /// Converts a value to the key's type or explains why it cannot be.
    private func checked(_ value: ConfigValue, source: String) throws(WhittleError) -> ConfigValue {
        switch (type, value) {
        case (_, .unset) where isOptional: return .unset
        case (.int, .int), (.float, .float), (.bool, .bool), (.string, .string): return value
        case (.float, .int(let integer)): return .float(Double(integer))
        case (.choice(let options), .string(let text)):
            guard options.contains(text) else {
                let suggestion = closestMatch(to: text, among: options).map { "did you mean \"\($0)\"? " } ?? ""
                throw WhittleError.config(
                    "`\(name)` in \(source) must be \(type.expectation) (got \(value.kindAndValue))",
                    hint: suggestion + "write for example `\(name) = \"\(options[0])\"`")
            }
            return value
        default:
            if case .float = value { throw mismatch(given: value.kindAndValue, givenFloat: true, source: source) }
            throw mismatch(given: value.kindAndValue, givenFloat: false, source: source)
        }
    }

    private func mismatch(given: String, givenFloat: Bool, source: String) -> WhittleError {
        var hint = "write for example `\(name) = \(example)`"
        if type == .int, givenFloat { hint = "integers have no decimal point or exponent: " + hint }
        if isOptional { hint += ", or leave it out (or set it to none) to use the default" }
        return WhittleError.config("`\(name)` in \(source) must be \(type.expectation) (got \(given))", hint: hint)
    }

    /// A valid literal for this key, for hints.
    private var example: String {
        switch type {
        case .int: return "4"
        case .float: return "0.001"
        case .bool: return "true"
        case .string: return "\"datasets/tinyshakespeare.txt\""
        case .choice(let options): return "\"\(options[0])\""
        }
    }

    private static func parseFloat(_ text: String) -> ConfigValue? {
        let cleaned = text.replacingUnderscores()
        switch cleaned.lowercased() {
        case "nan", "+nan", "-nan": return .float(.nan)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        default: break
        }
        // Only decimal literals: Double("0x1p3") and friends are not config syntax.
        guard cleaned.allSatisfy({ "0123456789+-.eE".contains($0) }), let number = Double(cleaned) else { return nil }
        return .float(number)
    }

    /// " (a float)" / " (a boolean)" for text that parses as another type, else "".
    private static func describeText(_ text: String) -> String {
        if Int(text.replacingUnderscores()) != nil { return " (an integer)" }
        if parseFloat(text) != nil { return " (a float)" }
        if text == "true" || text == "false" { return " (a boolean)" }
        return ""
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    /// TOML allows `1_000`; accept the same on the command line.
    func replacingUnderscores() -> String {
        guard contains("_"), !hasPrefix("_"), !hasSuffix("_") else { return self }
        return String(filter { $0 != "_" })
    }

    /// Drops one pair of surrounding double quotes, so `--set dataset="a b.txt"` works.
    func unquoted() -> String {
        guard count >= 2, hasPrefix("\""), hasSuffix("\"") else { return self }
        return String(dropFirst().dropLast())
    }
}

/// Levenshtein distance, used to suggest the closest known key or choice.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// The candidate closest to `text` if it is close enough to be a plausible typo, else nil.
func closestMatch(to text: String, among candidates: [String]) -> String? {
    let lowered = text.lowercased()
    let scored = candidates.map { (candidate: $0, distance: editDistance(lowered, $0.lowercased())) }
    guard let best = scored.min(by: { $0.distance < $1.distance }) else { return nil }
    let tolerance = max(2, min(lowered.count, best.candidate.count) / 3)
    if best.distance <= tolerance { return best.candidate }
    // `lr` for `learning_rate`-style abbreviations are not typos; a prefix or containment often is.
    if lowered.count >= 3, let contained = candidates.first(where: { $0.hasPrefix(lowered) || lowered.hasPrefix($0) }) {
        return contained
    }
    return nil
}
