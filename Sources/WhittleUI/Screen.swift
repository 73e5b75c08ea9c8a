// An in-memory terminal screen: a grid of cells (character + style) that views render into.
// Nothing here touches a real terminal, so every view is testable.

/// Visual attributes of one cell, as theme colour slots plus text attributes.
public struct CellStyle: Equatable, Hashable, Sendable {
    public var foreground: String?
    public var background: String?
    public var bold = false
    public var dim = false
    public var reverse = false

    public init(foreground: String? = nil, background: String? = nil,
                bold: Bool = false, dim: Bool = false, reverse: Bool = false) {
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.dim = dim
        self.reverse = reverse
    }

    public static let plain = CellStyle()
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

/// A width x height grid of cells; (0,0) is the top-left corner.
public struct Screen: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        cells = Array(repeating: Cell(), count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
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

    /// The screen's characters, one line per row, trailing spaces kept.
    public var text: String {
        (0..<height).map { y in String((0..<width).map { self[$0, y].character }) }.joined(separator: "\n")
    }
}
