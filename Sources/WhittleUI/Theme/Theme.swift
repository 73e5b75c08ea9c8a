// A colour theme: one optional RGB per ThemeKey (nil = terminal default), parsed from the btop
// grammar `theme[key]="value"` with `#` comments. Values may be "#RRGGBB", "#BW" (grey level),
// "R G B" (decimal) or "" (terminal default). Errors carry the line number and what to do.

/// A theme parse failure, with the 1-based line it happened on.
public struct ThemeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var themeName: String
    public var line: Int
    public var message: String

    public var description: String { "theme '\(themeName)', line \(line): \(message)" }
}

/// A named set of colours for every `ThemeKey`.
public struct Theme: Equatable, Sendable {
    /// The theme's name (its file name without `.theme`).
    public var name: String
    /// Colour per key; a missing entry or nil means the terminal default.
    public var colors: [ThemeKey: RGB?]

    public init(name: String, colors: [ThemeKey: RGB?] = [:]) {
        self.name = name
        self.colors = colors
    }

    /// The colour for `key`, nil for the terminal default.
    public func color(_ key: ThemeKey) -> RGB? { colors[key] ?? nil }

    /// Keys the theme does not mention at all (an empty value counts as mentioned).
    public var missingKeys: [ThemeKey] { ThemeKey.allCases.filter { colors[$0] == nil } }

    /// Whether any slot has a colour (false for monochrome themes).
    public var hasColor: Bool { colors.values.contains { $0 != nil } }

    /// Text in `key`'s colour on the main background.
    public func style(_ key: ThemeKey, bold: Bool = false, dim: Bool = false) -> CellStyle {
        CellStyle(foreground: color(key), background: color(.mainBackground), bold: bold, dim: dim)
    }

    /// Plain text on the main background.
    public var base: CellStyle { style(.mainForeground) }

    /// The selected-row style; falls back to reverse video when the theme leaves `selected_bg` empty.
    public var selected: CellStyle {
        guard let background = color(.selectedBackground) else { return base.reversed().bolded() }
        return CellStyle(foreground: color(.selectedForeground), background: background, bold: true)
    }

    /// The edit-field style; falls back to underlined reverse video without colours.
    public var input: CellStyle {
        guard let background = color(.inputBackground) else {
            return CellStyle(reverse: true, underline: true)
        }
        return CellStyle(foreground: color(.inputForeground), background: background)
    }

    /// The status-bar style.
    public var status: CellStyle {
        guard let background = color(.statusBackground) else { return base.reversed() }
        return CellStyle(foreground: color(.statusForeground), background: background)
    }

    /// Parses a theme file's text.
    /// - Throws: `ThemeError` for a line that is not a comment, blank, or `theme[key]="value"`,
    ///   for an unknown key, and for a value that is not a colour.
    public static func parse(name: String, text: String) throws(ThemeError) -> Theme {
        var theme = Theme(name: name)
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let (key, value) = try parseAssignment(line, lineNumber: index + 1, themeName: name)
            theme.colors[key] = .some(value)
        }
        return theme
    }

    private static func parseAssignment(
        _ line: String, lineNumber: Int,
        themeName: String
    ) throws(ThemeError) -> (ThemeKey, RGB?) {
        func fail(_ message: String) -> ThemeError {
            ThemeError(themeName: themeName, line: lineNumber, message: message)
        }
        guard line.hasPrefix("theme["), let close = line.firstIndex(of: "]") else {
            throw fail("expected theme[key]=\"#RRGGBB\", found '\(line)'")
        }
        let keyText = String(line[line.index(line.startIndex, offsetBy: 6)..<close])
        guard let key = ThemeKey(rawValue: keyText) else {
            throw fail(
                "unknown key '\(keyText)'; known keys: \(ThemeKey.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var rest = line[line.index(after: close)...].trimmingWhitespace()
        guard rest.hasPrefix("=") else { throw fail("expected '=' after theme[\(keyText)]") }
        rest = String(rest.dropFirst()).trimmingWhitespace()
        guard rest.count >= 2, rest.hasPrefix("\""), rest.hasSuffix("\"") else {
            throw fail("the value of \(keyText) must be in double quotes, e.g. \"#4C9F70\" or \"\" for the default")
        }
        let value = String(rest.dropFirst().dropLast()).trimmingWhitespace()
        if value.isEmpty { return (key, nil) }
        if let rgb = RGB(hex: value) ?? RGB(decimalTriple: value) { return (key, rgb) }
        throw fail("'\(value)' is not a colour; use \"#RRGGBB\", \"#BW\" (grey), \"R G B\" or \"\"")
    }
}

extension RGB {
    /// Parses "R G B" with decimal components 0...255 (btop's third colour form).
    init?(decimalTriple text: String) {
        let parts = text.split(separator: " ").compactMap { UInt8($0) }
        guard parts.count == 3, text.split(separator: " ").count == 3 else { return nil }
        self.init(parts[0], parts[1], parts[2])
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
