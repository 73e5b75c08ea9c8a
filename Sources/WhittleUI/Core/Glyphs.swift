// The symbol set every widget draws with: box drawing, chart symbols, arrows and markers, in a
// Unicode flavour and a pure-ASCII flavour. The ASCII set is chosen by `--ascii` or a non-UTF-8
// locale; every glyph in it is a 7-bit character so output survives any terminal.

/// How line charts turn dots into characters.
public enum ChartSymbols: String, Equatable, Sendable, CaseIterable {
    /// Braille patterns, 2x4 dots per cell (U+2800 + dot bits).
    case braille
    /// Quadrant blocks, 2x2 dots per cell.
    case block
    /// ASCII, 1x3 dots per cell ('.', '-', '\'').
    case ascii

    /// Dots per cell horizontally and vertically.
    public var dotsPerCell: (columns: Int, rows: Int) {
        switch self {
        case .braille: (2, 4)
        case .block: (2, 2)
        case .ascii: (1, 3)
        }
    }
}

/// A complete set of drawing symbols.
public struct Glyphs: Equatable, Sendable {
    public var horizontal: Character
    public var vertical: Character
    public var topLeft: Character
    public var topRight: Character
    public var bottomLeft: Character
    public var bottomRight: Character
    /// Vertical line used for chart markers.
    public var markerLine: Character
    /// Sparkline levels, lowest (blank) first.
    public var sparkLevels: [Character]
    /// Horizontal bar partial fills, empty first, full last.
    public var barLevels: [Character]
    /// Fill characters for stacked-bar segments when colour cannot tell them apart.
    public var stackFills: [Character]
    public var arrowUp: Character
    public var arrowDown: Character
    public var arrowLeft: Character
    public var arrowRight: Character
    /// Marks the selected row or an active item.
    public var pointer: Character
    public var ellipsis: Character
    public var bullet: Character
    /// Separates items in headers and status lines.
    public var separator: String
    /// The "×" in sizes like 80×24.
    public var times: Character
    public var chartSymbols: ChartSymbols

    /// Box drawing, braille charts and block elements.
    public static let unicode = Glyphs(
        horizontal: "─", vertical: "│", topLeft: "╭", topRight: "╮", bottomLeft: "╰", bottomRight: "╯",
        markerLine: "┊", sparkLevels: [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
        barLevels: [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"], stackFills: ["█", "▓", "▒", "░", "▚", "▞"],
        arrowUp: "↑", arrowDown: "↓", arrowLeft: "←", arrowRight: "→", pointer: "▸", ellipsis: "…",
        bullet: "●", separator: " · ", times: "×", chartSymbols: .braille)

    /// Seven-bit ASCII only.
    public static let ascii = Glyphs(
        horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+",
        markerLine: ":", sparkLevels: [" ", ".", ":", "-", "=", "+", "*", "#", "@"],
        barLevels: [" ", "#"], stackFills: ["#", "=", "%", "+", "*", "o"],
        arrowUp: "^", arrowDown: "v", arrowLeft: "<", arrowRight: ">", pointer: ">", ellipsis: "~",
        bullet: "*", separator: " | ", times: "x", chartSymbols: .ascii)

    /// The set for a terminal: ASCII when asked for or when the locale is not UTF-8.
    public static func select(forceASCII: Bool, localeIsUTF8: Bool) -> Glyphs {
        forceASCII || !localeIsUTF8 ? .ascii : .unicode
    }
}
