// Boxes with titles and horizontal divider lines, the frame every pane is drawn in.

extension Screen {
    /// Draws a border around `rect` with an optional title in the top edge; returns the inside.
    /// - Parameters:
    ///   - title: written as " title " after the top-left corner, clipped to the box.
    ///   - titleStyle: style of the title text; the border uses `style`.
    @discardableResult
    public mutating func box(
        _ rect: Rect, title: String? = nil, glyphs: Glyphs,
        style: CellStyle, titleStyle: CellStyle? = nil
    ) -> Rect {
        guard rect.width >= 2, rect.height >= 2 else { return Rect(x: rect.x, y: rect.y, width: 0, height: 0) }
        for x in rect.x + 1..<rect.maxX - 1 {
            set(glyphs.horizontal, x: x, y: rect.y, style: style)
            set(glyphs.horizontal, x: x, y: rect.maxY - 1, style: style)
        }
        for y in rect.y + 1..<rect.maxY - 1 {
            set(glyphs.vertical, x: rect.x, y: y, style: style)
            set(glyphs.vertical, x: rect.maxX - 1, y: y, style: style)
        }
        set(glyphs.topLeft, x: rect.x, y: rect.y, style: style)
        set(glyphs.topRight, x: rect.maxX - 1, y: rect.y, style: style)
        set(glyphs.bottomLeft, x: rect.x, y: rect.maxY - 1, style: style)
        set(glyphs.bottomRight, x: rect.maxX - 1, y: rect.maxY - 1, style: style)
        if let title, !title.isEmpty, rect.width > 4 {
            let titleArea = Rect(x: rect.x + 1, y: rect.y, width: rect.width - 2, height: 1)
            put(" \(title) ", in: titleArea, row: rect.y, style: titleStyle ?? style, ellipsis: glyphs.ellipsis)
        }
        return rect.inset(by: 1)
    }
}
