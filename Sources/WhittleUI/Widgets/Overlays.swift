// Things drawn on top of a view: a modal dialog box, the status bar with key hints, and the help
// overlay listing a keymap (paginated by a scroll offset when the terminal is short).

/// A key hint for the status bar or the help overlay.
public struct KeyHint: Equatable, Sendable {
    public var keys: String
    public var description: String
    public init(keys: String, description: String) {
        self.keys = keys
        self.description = description
    }
}

/// Draws modal overlays and bars.
public enum Overlays {
    /// A centred box of `width` x `height` (clamped to `area`) with a title, cleared inside;
    /// returns the inner rectangle for the caller to fill.
    @discardableResult
    public static func dialog(
        into screen: inout Screen, area: Rect, width: Int, height: Int, title: String,
        style: CellStyle, borderStyle: CellStyle, titleStyle: CellStyle, glyphs: Glyphs
    ) -> Rect {
        let rect = area.centered(width: width, height: height)
        screen.fill(rect, style: style)
        return screen.box(rect, title: title, glyphs: glyphs, style: borderStyle, titleStyle: titleStyle)
    }

    /// One status line: key hints on the left (keys in `keyStyle`), `right` text at the right edge.
    /// Hints win over `right` unless `rightHasPriority` (a message the user must see).
    public static func statusBar(
        into screen: inout Screen, area: Rect, hints: [KeyHint], right: String,
        rightHasPriority: Bool = false, style: CellStyle, keyStyle: CellStyle
    ) {
        guard area.width > 0, area.height > 0 else { return }
        screen.fill(Rect(x: area.x, y: area.y, width: area.width, height: 1), style: style)
        let hintsWidth = hints.reduce(1) { $0 + $1.keys.count + 1 + $1.description.count + 2 }
        let showRight = rightHasPriority || hintsWidth + right.count + 1 <= area.width
        let rightText = String(right.prefix(max(area.width - 2, 0)))
        let limit = showRight ? area.maxX - rightText.count - 1 : area.maxX
        var x = area.x + 1
        for hint in hints {
            let needed = hint.keys.count + 1 + hint.description.count
            if x + needed > limit { break }
            x = screen.put(hint.keys, x: x, y: area.y, style: keyStyle)
            x = screen.put(" " + hint.description, x: x, y: area.y, style: style) + 2
        }
        if showRight { screen.put(rightText, x: area.maxX - rightText.count - 1, y: area.y, style: style) }
    }

    /// A help box listing `sections` of key hints, starting at line `scroll`; returns the number of
    /// lines in full so the caller can clamp scrolling.
    @discardableResult
    public static func help(
        into screen: inout Screen, area: Rect, sections: [(title: String, hints: [KeyHint])],
        scroll: Int, style: CellStyle, borderStyle: CellStyle, titleStyle: CellStyle,
        keyStyle: CellStyle, glyphs: Glyphs
    ) -> Int {
        var lines: [(keys: String, text: String, isTitle: Bool)] = []
        for section in sections {
            if !lines.isEmpty { lines.append(("", "", false)) }
            lines.append(("", section.title, true))
            lines += section.hints.map { ($0.keys, $0.description, false) }
        }
        let keyWidth = min(lines.map(\.keys.count).max() ?? 0, 16)
        let textWidth = lines.map(\.text.count).max() ?? 0
        let width = min(area.width - 2, keyWidth + textWidth + 6)
        let height = min(area.height - 2, lines.count + 3)
        let inner = dialog(
            into: &screen, area: area, width: width, height: height, title: "help",
            style: style, borderStyle: borderStyle, titleStyle: titleStyle, glyphs: glyphs)
        let visible = max(inner.height - 1, 0)
        let first = min(max(scroll, 0), max(lines.count - visible, 0))
        for (row, line) in lines.dropFirst(first).prefix(visible).enumerated() {
            let y = inner.y + row
            if line.isTitle {
                screen.put(line.text, in: inner.inset(left: 1), row: y, style: titleStyle)
            } else {
                screen.put(line.keys.leftPadded(to: keyWidth), x: inner.x + 1, y: y, style: keyStyle)
                screen.put(
                    line.text, in: inner.inset(left: keyWidth + 3), row: y, style: style, ellipsis: glyphs.ellipsis)
            }
        }
        let more = lines.count > visible ? "\(glyphs.arrowUp)\(glyphs.arrowDown) scroll  " : ""
        screen.put(more + "Esc/? close", in: inner.inset(left: 1), row: inner.maxY - 1, style: borderStyle)
        return lines.count
    }
}
