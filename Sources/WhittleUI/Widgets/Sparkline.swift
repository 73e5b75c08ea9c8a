// A one-row sparkline: the most recent values, one per cell, as eighth-block levels (or an ASCII ramp).

/// Draws sparklines into a Screen.
public enum Sparkline {
    /// Draws the last `area.width` values of `values` in `area`'s first row, scaled from 0 (or the
    /// minimum when `fromZero` is false) to the maximum. Non-finite values draw as blanks.
    public static func draw(
        into screen: inout Screen, area: Rect, values: [Double], style: CellStyle,
        glyphs: Glyphs, fromZero: Bool = true
    ) {
        guard area.width > 0, area.height > 0 else { return }
        let recent = Array(values.suffix(area.width))
        let finite = recent.filter(\.isFinite)
        guard let high = finite.max(), let low = fromZero ? Optional(min(0, finite.min() ?? 0)) : finite.min() else {
            return
        }
        let levels = glyphs.sparkLevels.count - 1
        let offset = area.width - recent.count
        for (i, value) in recent.enumerated() {
            var level = 0
            if value.isFinite {
                level = high > low ? Int(((value - low) / (high - low) * Double(levels)).rounded()) : levels
                level = max(value > low ? 1 : 0, min(level, levels))
            }
            screen.set(glyphs.sparkLevels[level], x: area.x + offset + i, y: area.y, style: style)
        }
    }
}
