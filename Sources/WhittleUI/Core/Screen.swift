// An in-memory terminal screen: a grid of cells (character + style) that views render into.
// Nothing here touches a real terminal, so every view is testable. Colours in a cell are concrete
// RGB values already resolved from the theme (nil = terminal default); the terminal backend maps
// them down to what the real terminal supports.

/// Visual attributes of one cell: resolved colours plus text attributes.
public struct CellStyle: Equatable, Hashable, Sendable {
    /// Foreground colour; nil means the terminal's default foreground.
    public var foreground: RGB?
    /// Background colour; nil means the terminal's default background.
    public var background: RGB?
    public var bold = false
    public var dim = false
    public var reverse = false
    public var underline = false

    public init(
        foreground: RGB? = nil, background: RGB? = nil,
        bold: Bool = false, dim: Bool = false, reverse: Bool = false, underline: Bool = false
    ) {
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.dim = dim
        self.reverse = reverse
        self.underline = underline
    }

    /// The terminal's default colours without attributes.
    public static let plain = CellStyle()

    /// A copy with `bold` set.
    public func bolded(_ on: Bool = true) -> CellStyle {
        var s = self
        s.bold = on
        return s
    }
    /// A copy with `reverse` set.
    public func reversed(_ on: Bool = true) -> CellStyle {
        var s = self
        s.reverse = on
        return s
    }
}

/// One character position on screen.
public struct Cell: Equatable, Sendable {
    public var character: Character
    public var style: CellStyle
    public init(_ character: Character = " ", style: CellStyle = .plain) {
        self.character = character
        self.style = style
    }
}

/// A width x height grid of cells; (0,0) is the top-left corner. Only single-width glyphs are supported.
public struct Screen: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    /// A blank screen filled with `fill` (a space in the plain style by default).
    public init(width: Int, height: Int, fill: Cell = Cell()) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        cells = Array(repeating: fill, count: self.width * self.height)
    }

    /// The cell at column `x`, row `y`. Both must be inside the screen.
    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// The whole screen as a rectangle at the origin.
    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    /// Whether (x, y) lies on the screen.
    public func contains(x: Int, y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// Sets one cell if it is on screen; off-screen writes are ignored.
    public mutating func set(_ character: Character, x: Int, y: Int, style: CellStyle) {
        guard contains(x: x, y: y) else { return }
        self[x, y] = Cell(character, style: style)
    }

    /// Writes `text` from (x, y), clipped at the right edge; returns the column after the text.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: CellStyle = .plain) -> Int {
        guard y >= 0, y < height else { return x }
        var column = x
        for character in text {
            if column >= width { break }
            if column >= 0 { self[column, y] = Cell(character, style: style) }
            column += 1
        }
        return column
    }

    /// Writes `text` inside `rect`'s row `y`, clipped to the rectangle (truncated with `ellipsis` if given).
    @discardableResult
    public mutating func put(
        _ text: String, in rect: Rect, row y: Int, style: CellStyle,
        ellipsis: Character? = nil
    ) -> Int {
        guard rect.width > 0, y >= rect.y, y < rect.maxY else { return rect.x }
        var chars = Array(text)
        if chars.count > rect.width {
            chars = Array(chars.prefix(rect.width))
            if let ellipsis { chars[chars.count - 1] = ellipsis }
        }
        return put(String(chars), x: rect.x, y: y, style: style)
    }

    /// Fills `rect` (clipped to the screen) with `character` in `style`.
    public mutating func fill(_ rect: Rect, with character: Character = " ", style: CellStyle) {
        let clipped = rect.intersection(bounds)
        guard !clipped.isEmpty else { return }
        for y in clipped.y..<clipped.maxY {
            for x in clipped.x..<clipped.maxX { self[x, y] = Cell(character, style: style) }
        }
    }

    /// Row `y` as a string, trailing spaces kept.
    public func line(_ y: Int) -> String { String((0..<width).map { self[$0, y].character }) }

    /// The screen's characters, one string per row, trailing spaces kept.
    public var lines: [String] { (0..<height).map(line) }

    /// The screen's characters, one line per row, trailing spaces kept.
    public var text: String { lines.joined(separator: "\n") }
}
