// A bitmap of "dots" at sub-cell resolution and its conversion to characters: braille (2x4 dots per
// cell, U+2800 + dot bits), quadrant blocks (2x2) and ASCII (1x3). Line charts plot into it.

/// A width x height grid of dots (row 0 at the top).
public struct DotCanvas: Equatable, Sendable {
    public let width: Int
    public let height: Int
    private var dots: [Bool]

    /// An empty canvas of `width` x `height` dots.
    public init(width: Int, height: Int) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        dots = Array(repeating: false, count: self.width * self.height)
    }

    /// Whether the dot at (x, y) is set; false outside the canvas.
    public subscript(x: Int, y: Int) -> Bool {
        get { x >= 0 && y >= 0 && x < width && y < height ? dots[y * width + x] : false }
        set { if x >= 0, y >= 0, x < width, y < height { dots[y * width + x] = newValue } }
    }

    /// Sets every dot on the straight segment from (x0, y0) to (x1, y1) (Bresenham).
    public mutating func line(from x0: Int, _ y0: Int, to x1: Int, _ y1: Int) {
        let dx = abs(x1 - x0)
        let dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1
        let sy = y0 < y1 ? 1 : -1
        var (x, y, error) = (x0, y0, dx + dy)
        while true {
            self[x, y] = true
            if x == x1 && y == y1 { break }
            let e2 = 2 * error
            if e2 >= dy {
                error += dy
                x += sx
            }
            if e2 <= dx {
                error += dx
                y += sy
            }
        }
    }

    /// Braille dot bits by [row][column] inside a cell.
    static let brailleBits: [[UInt32]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]
    /// Quadrant blocks indexed by bits (top-left 1, top-right 2, bottom-left 4, bottom-right 8).
    static let quadrants: [Character] = [
        " ", "▘", "▝", "▀", "▖", "▌", "▞", "▛", "▗", "▚", "▐", "▜", "▄", "▙", "▟", "█",
    ]
    /// ASCII cells indexed by bits (top 1, middle 2, bottom 4).
    static let asciiCells: [Character] = [" ", "'", "-", "|", ".", ":", "|", "|"]

    /// The dot bits of cell (column, row) for `symbols`; 0 when the cell has no dots.
    public func cellBits(column: Int, row: Int, symbols: ChartSymbols) -> UInt32 {
        let (cw, ch) = symbols.dotsPerCell
        var bits: UInt32 = 0
        for dy in 0..<ch {
            for dx in 0..<cw where self[column * cw + dx, row * ch + dy] {
                switch symbols {
                case .braille: bits |= DotCanvas.brailleBits[dy][dx]
                case .block: bits |= 1 << UInt32(dy * 2 + dx)
                case .ascii: bits |= 1 << UInt32(dy)
                }
            }
        }
        return bits
    }

    /// The character showing `bits` in `symbols` (a space for 0).
    public static func character(bits: UInt32, symbols: ChartSymbols) -> Character {
        switch symbols {
        case .braille: Character(Unicode.Scalar(0x2800 + bits) ?? " ")
        case .block: quadrants[Int(bits & 0xF)]
        case .ascii: asciiCells[Int(bits & 0x7)]
        }
    }
}
