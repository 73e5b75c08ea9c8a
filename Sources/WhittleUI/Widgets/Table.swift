// A table: a header row and data rows with per-column width and alignment, a highlighted
// selected row, and vertical scrolling that keeps the selection visible.

/// Horizontal alignment of a column's text.
public enum Alignment: Equatable, Sendable { case left, right, center }

/// One table column.
public struct TableColumn: Equatable, Sendable {
    public var title: String
    /// Width in cells; 0 means "share the remaining width".
    public var width: Int
    public var alignment: Alignment
    public init(_ title: String, width: Int = 0, alignment: Alignment = .left) {
        self.title = title
        self.width = width
        self.alignment = alignment
    }
}

/// Draws tables into a Screen.
public enum Table {
    /// Draws `rows` under a header (if `showHeader`) in `area`; `selected` is highlighted with
    /// `selectedStyle`. `rowStyles` may override the style of individual rows (by index).
    public static func draw(
        into screen: inout Screen, area: Rect, columns: [TableColumn], rows: [[String]],
        selected: Int?, showHeader: Bool = true, headerStyle: CellStyle, style: CellStyle,
        selectedStyle: CellStyle, rowStyles: [Int: CellStyle] = [:], glyphs: Glyphs
    ) {
        guard !area.isEmpty, !columns.isEmpty else { return }
        let widths = columnWidths(columns, total: area.width)
        var y = area.y
        if showHeader {
            drawRow(
                columns.map(\.title), into: &screen, x: area.x, y: y, widths: widths, columns: columns,
                style: headerStyle, glyphs: glyphs)
            y += 1
        }
        let visible = area.maxY - y
        guard visible > 0 else { return }
        let first = max(0, min((selected ?? 0) - visible + 1, rows.count - visible))
        for (index, row) in rows.enumerated().dropFirst(first).prefix(visible) {
            let rowStyle = index == selected ? selectedStyle : rowStyles[index] ?? style
            screen.fill(Rect(x: area.x, y: y, width: area.width, height: 1), style: rowStyle)
            drawRow(
                row, into: &screen, x: area.x, y: y, widths: widths, columns: columns, style: rowStyle, glyphs: glyphs)
            y += 1
        }
    }

    static func columnWidths(_ columns: [TableColumn], total: Int) -> [Int] {
        let gaps = columns.count - 1
        let fixed = columns.reduce(0) { $0 + $1.width }
        let flexible = columns.filter { $0.width == 0 }.count
        let share = flexible > 0 ? max(total - fixed - gaps, 0) / flexible : 0
        return columns.map { $0.width == 0 ? share : $0.width }
    }

    static func drawRow(
        _ cells: [String], into screen: inout Screen, x: Int, y: Int, widths: [Int],
        columns: [TableColumn], style: CellStyle, glyphs: Glyphs
    ) {
        var column = x
        for (i, width) in widths.enumerated() {
            let text = i < cells.count ? cells[i] : ""
            screen.put(
                aligned(text, width: width, alignment: columns[i].alignment, ellipsis: glyphs.ellipsis),
                x: column, y: y, style: style)
            column += width + 1
        }
    }

    /// `text` padded or truncated (with `ellipsis`) to exactly `width` characters.
    public static func aligned(_ text: String, width: Int, alignment: Alignment, ellipsis: Character) -> String {
        guard width > 0 else { return "" }
        if text.count > width { return String(text.prefix(width - 1)) + String(ellipsis) }
        let pad = width - text.count
        switch alignment {
        case .left: return text + String(repeating: " ", count: pad)
        case .right: return String(repeating: " ", count: pad) + text
        case .center:
            return String(repeating: " ", count: pad / 2) + text + String(repeating: " ", count: pad - pad / 2)
        }
    }
}
