// A labelled scatter plot for trade-offs: points placed by (x, y) with a marker and a short label,
// the Pareto front (the points no other point beats on both axes, lower being better) joined by a
// line drawn in dots, axis ranges written at the corners, and one point highlighted.

/// One point of a scatter plot.
public struct ScatterPoint: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public var label: String
    public var style: CellStyle
    public var highlighted: Bool

    public init(x: Double, y: Double, label: String, style: CellStyle, highlighted: Bool = false) {
        self.x = x
        self.y = y
        self.label = label
        self.style = style
        self.highlighted = highlighted
    }
}

/// Draws scatter plots into a Screen.
public enum ScatterPlot {
    /// Indices of the points no other point dominates (≤ on both axes, < on one), by increasing x.
    public static func paretoFront(_ points: [(x: Double, y: Double)]) -> [Int] {
        let front = points.indices.filter { i in
            !points.indices.contains { j in
                j != i && points[j].x <= points[i].x && points[j].y <= points[i].y
                    && (points[j].x < points[i].x || points[j].y < points[i].y)
            }
        }
        return front.sorted { (points[$0].x, points[$0].y) < (points[$1].x, points[$1].y) }
    }

    /// Draws `points` in `area`: y labels on the left, x labels on the bottom row, the front as a dotted line.
    public static func draw(
        into screen: inout Screen, area: Rect, points: [ScatterPoint], xLabel: (Double) -> String,
        yLabel: (Double) -> String, frontStyle: CellStyle, labelStyle: CellStyle, glyphs: Glyphs
    ) {
        guard area.width >= 20, area.height >= 4, !points.isEmpty else { return }
        let xs = points.map(\.x), ys = points.map(\.y)
        let (x0, x1) = padded(xs.min()!, xs.max()!)
        let (y0, y1) = padded(ys.min()!, ys.max()!)
        let labelWidth = max(yLabel(y1).count, yLabel(y0).count) + 1
        let plot = Rect(x: area.x + labelWidth, y: area.y, width: area.width - labelWidth, height: area.height - 1)
        screen.put(yLabel(y1), x: area.x, y: plot.y, style: labelStyle)
        screen.put(yLabel(y0), x: area.x, y: plot.maxY - 1, style: labelStyle)
        for y in plot.y..<plot.maxY { screen.set(glyphs.vertical, x: plot.x - 1, y: y, style: labelStyle) }
        screen.put(xLabel(x0), x: plot.x, y: area.maxY - 1, style: labelStyle)
        let right = xLabel(x1)
        screen.put(right, x: plot.maxX - right.count, y: area.maxY - 1, style: labelStyle)
        // Markers sit in the left part of the plot so their labels fit to the right.
        let usable = max(plot.width - 12, 1)
        func cell(_ p: ScatterPoint) -> (x: Int, y: Int) {
            let fx = x1 > x0 ? (p.x - x0) / (x1 - x0) : 0.5
            let fy = y1 > y0 ? (p.y - y0) / (y1 - y0) : 0.5
            return (plot.x + Int((fx * Double(usable - 1)).rounded()), plot.maxY - 1 - Int((fy * Double(plot.height - 1)).rounded()))
        }
        let front = paretoFront(points.map { ($0.x, $0.y) })
        drawFront(front.map { cell(points[$0]) }, in: plot, style: frontStyle, glyphs: glyphs, into: &screen)
        // Highlighted last, so it is on top.
        for index in points.indices.sorted(by: { !points[$0].highlighted && points[$1].highlighted }) {
            let point = points[index]
            let (cx, cy) = cell(point)
            let style = point.highlighted ? point.style.bolded().reversed() : point.style.bolded()
            screen.set(glyphs.bullet, x: cx, y: cy, style: style)
            let room = Rect(x: cx + 1, y: cy, width: plot.maxX - cx - 1, height: 1)
            screen.put(point.label, in: room, row: cy, style: point.highlighted ? style : point.style, ellipsis: glyphs.ellipsis)
        }
    }

    /// Joins consecutive front cells with dots at the chart symbols' resolution.
    static func drawFront(_ cells: [(x: Int, y: Int)], in plot: Rect, style: CellStyle, glyphs: Glyphs,
                          into screen: inout Screen) {
        guard cells.count >= 2 else { return }
        let (cw, ch) = glyphs.chartSymbols.dotsPerCell
        var canvas = DotCanvas(width: plot.width * cw, height: plot.height * ch)
        for (a, b) in zip(cells, cells.dropFirst()) {
            canvas.line(from: (a.x - plot.x) * cw + cw / 2, (a.y - plot.y) * ch + ch / 2,
                        to: (b.x - plot.x) * cw + cw / 2, (b.y - plot.y) * ch + ch / 2)
        }
        for row in 0..<plot.height {
            for column in 0..<plot.width {
                let bits = canvas.cellBits(column: column, row: row, symbols: glyphs.chartSymbols)
                if bits != 0 {
                    screen.set(DotCanvas.character(bits: bits, symbols: glyphs.chartSymbols), x: plot.x + column,
                               y: plot.y + row, style: style)
                }
            }
        }
    }

    /// A range with 5% room on both sides (one unit around a single value).
    static func padded(_ low: Double, _ high: Double) -> (Double, Double) {
        let span = high - low
        guard span > 0 else { return (low - max(abs(low) * 0.05, 1e-9), high + max(abs(high) * 0.05, 1e-9)) }
        return (low - span * 0.05, high + span * 0.05)
    }
}
