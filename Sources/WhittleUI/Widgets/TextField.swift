// Single-line text editing: the value model (text + cursor, with the usual editing operations)
// and its drawing, which scrolls horizontally to keep the cursor in view.

/// An editable line of text with a cursor position (0...text.count).
public struct TextField: Equatable, Sendable {
    public private(set) var text: String
    public private(set) var cursor: Int

    /// A field holding `text` with the cursor at the end.
    public init(_ text: String = "") {
        self.text = text
        cursor = text.count
    }

    /// Inserts `character` at the cursor.
    public mutating func insert(_ character: Character) {
        var chars = Array(text)
        chars.insert(character, at: cursor)
        text = String(chars)
        cursor += 1
    }

    /// Deletes the character before the cursor.
    public mutating func backspace() {
        guard cursor > 0 else { return }
        var chars = Array(text)
        chars.remove(at: cursor - 1)
        text = String(chars)
        cursor -= 1
    }

    /// Deletes the character under the cursor.
    public mutating func deleteForward() {
        var chars = Array(text)
        guard cursor < chars.count else { return }
        chars.remove(at: cursor)
        text = String(chars)
    }

    public mutating func moveLeft() { cursor = max(cursor - 1, 0) }
    public mutating func moveRight() { cursor = min(cursor + 1, text.count) }
    public mutating func moveHome() { cursor = 0 }
    public mutating func moveEnd() { cursor = text.count }

    /// Draws the field in `area`'s first row; the cursor cell is shown in reverse video.
    public func draw(into screen: inout Screen, area: Rect, style: CellStyle) {
        guard area.width > 0, area.height > 0 else { return }
        let chars = Array(text)
        let first = max(0, cursor - area.width + 1)
        screen.fill(Rect(x: area.x, y: area.y, width: area.width, height: 1), style: style)
        for i in 0..<area.width {
            let index = first + i
            let character = index < chars.count ? chars[index] : " "
            let cellStyle = index == cursor ? style.reversed(!style.reverse) : style
            screen.set(character, x: area.x + i, y: area.y, style: cellStyle)
        }
    }
}
