// Horizontal bars: a single meter with sub-cell resolution, and a stacked bar whose segments
// (e.g. the memory ledger's categories) each take cells in proportion to their value.

/// One part of a stacked bar.
public struct BarSegment: Equatable, Sendable {
    public var value: Double
    public var style: CellStyle
    /// The fill character (distinct per segment when colours cannot tell segments apart).
    public var fill: Character
    public init(value: Double, style: CellStyle, fill: Character) {
        self.value = value
        self.style = style
        self.fill = fill
    }
}

/// Draws horizontal bars into a Screen.
public enum Bars {
    /// A meter filled to `fraction` (0...1) of `area`'s first row; the rest is drawn in `emptyStyle`.
    public static func meter(
        into screen: inout Screen, area: Rect, fraction: Double, style: CellStyle,
        emptyStyle: CellStyle, glyphs: Glyphs
    ) {
        guard area.width > 0, area.height > 0 else { return }
        let clamped = fraction.isFinite ? min(max(fraction, 0), 1) : 0
        let steps = glyphs.barLevels.count - 1
        let eighths = Int((clamped * Double(area.width * steps)).rounded())
        for i in 0..<area.width {
            let filled = min(max(eighths - i * steps, 0), steps)
            let character = glyphs.barLevels[filled]
            screen.set(character, x: area.x + i, y: area.y, style: filled == 0 ? emptyStyle : style)
        }
    }

    /// Segments side by side in `area`'s first row, scaled so that `total` fills the row
    /// (use a total above the segments' sum, e.g. peak RSS, to leave an empty tail).
    /// Each boundary is rounded from the running sum, so the cells always add up.
    public static func stacked(
        into screen: inout Screen, area: Rect, segments: [BarSegment], total: Double,
        emptyStyle: CellStyle, emptyFill: Character = " "
    ) {
        guard area.width > 0, area.height > 0 else { return }
        let sum = segments.reduce(0) { $0 + max($1.value, 0) }
        let scale = max(total, sum)
        screen.fill(Rect(x: area.x, y: area.y, width: area.width, height: 1), with: emptyFill, style: emptyStyle)
        guard scale > 0 else { return }
        var running = 0.0
        for segment in segments {
            let start = Int((running / scale * Double(area.width)).rounded())
            running += max(segment.value, 0)
            let end = Int((running / scale * Double(area.width)).rounded())
            for x in start..<max(start, end) {
                screen.set(segment.fill, x: area.x + x, y: area.y, style: segment.style)
            }
        }
    }
}
