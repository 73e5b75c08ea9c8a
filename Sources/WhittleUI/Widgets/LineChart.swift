// A line chart widget: several series (drawn in order, later ones on top) with an auto-scaled,
// labelled y axis (optionally log10), x-axis labels (steps or durations) and vertical markers.
// Data is decimated for drawing only: each dot column keeps the min and max of its points, so
// spikes stay visible however long the history is.

import Foundation

/// One (x, y) sample.
public struct ChartPoint: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// A series to plot, in one style.
public struct ChartSeries: Equatable, Sendable {
    public var points: [ChartPoint]
    public var style: CellStyle
    public init(points: [ChartPoint], style: CellStyle) {
        self.points = points
        self.style = style
    }
}

/// A series as LineChart draws it: plain points, or a SeriesSummary kept between frames.
public struct ChartLayer {
    public enum Source {
        case points([ChartPoint])
        case summary(SeriesSummary)
    }
    public var source: Source
    public var style: CellStyle
    public init(points: [ChartPoint], style: CellStyle) {
        source = .points(points)
        self.style = style
    }
    public init(summary: SeriesSummary, style: CellStyle) {
        source = .summary(summary)
        self.style = style
    }
}

/// How x-axis labels are written.
public enum AxisFormat: Equatable, Sendable {
    /// Plain numbers (steps): 0, 1.2k.
    case number
    /// Durations in seconds: 3m07s.
    case duration

    func format(_ value: Double) -> String {
        switch self {
        case .number: abs(value) < 10_000 ? String(Int(value.rounded())) : NumberFormat.compact(value.rounded())
        case .duration: NumberFormat.duration(value)
        }
    }
}

/// Everything about a chart except its data.
public struct LineChartOptions: Equatable, Sendable {
    public var symbols: ChartSymbols
    /// Plot log10(y); non-positive values are dropped.
    public var logScale = false
    public var xFormat: AxisFormat = .number
    public var showYLabels = true
    public var showXLabels = true
    public var labelStyle: CellStyle = .plain
    public var markerStyle: CellStyle = .plain
    /// Text shown when there is nothing to plot.
    public var emptyText = "no data yet"

    public init(
        symbols: ChartSymbols, logScale: Bool = false, xFormat: AxisFormat = .number,
        labelStyle: CellStyle = .plain, markerStyle: CellStyle = .plain
    ) {
        self.symbols = symbols
        self.logScale = logScale
        self.xFormat = xFormat
        self.labelStyle = labelStyle
        self.markerStyle = markerStyle
    }
}

/// Draws line charts into a Screen.
public enum LineChart {
    /// Plots `series` into `area`, with axis labels inside the area and `markers` (x values) as vertical lines.
    public static func draw(
        into screen: inout Screen, area: Rect, series: [ChartSeries], markers: [Double] = [],
        options: LineChartOptions, glyphs: Glyphs
    ) {
        draw(into: &screen, area: area, layers: series.map { ChartLayer(points: $0.points, style: $0.style) },
             markers: markers, options: options, glyphs: glyphs)
    }

    /// Plots `layers` (raw points or incrementally maintained summaries, drawn identically).
    public static func draw(
        into screen: inout Screen, area: Rect, layers: [ChartLayer], markers: [Double] = [],
        labelledMarkers: [ChartMarker] = [], options: LineChartOptions, glyphs: Glyphs
    ) {
        guard area.width >= 1, area.height >= 1 else { return }
        let log = options.logScale
        var extent = SeriesSummary.Extent()
        for layer in layers {
            switch layer.source {
            case .points(let points):
                for p in points where p.x.isFinite && p.y.isFinite && (!log || p.y > 0) {
                    extent.include(x: p.x, y: log ? log10(p.y) : p.y)
                }
            case .summary(let summary):
                let e = summary.extent(log: log)
                if !e.isEmpty {
                    extent.include(x: e.xMin, y: e.yMin)
                    extent.include(x: e.xMax, y: e.yMax)
                }
            }
        }
        let xMin = extent.xMin, xMax = extent.xMax
        var yMin = extent.yMin, yMax = extent.yMax
        guard xMin <= xMax else {
            let row = area.y + area.height / 2
            let text = String(options.emptyText.prefix(area.width))
            screen.put(text, x: area.x + (area.width - text.count) / 2, y: row, style: options.labelStyle)
            return
        }
        if yMax - yMin < 1e-12 {
            let pad = max(abs(yMax) * 0.05, 1e-6)
            yMin -= pad
            yMax += pad
        }
        let xSpan: Double = xMax > xMin ? xMax - xMin : 1
        let labelRows = area.height - (options.showXLabels ? 1 : 0)
        let labels = yLabels(yMin: yMin, yMax: yMax, rows: labelRows, log: options.logScale)
        let widest = labels.map { $0.count }.max() ?? 0
        let gutter = options.showYLabels ? min(widest + 1, area.width / 3) : 0
        let plot = area.inset(left: gutter, bottom: options.showXLabels && area.height >= 3 ? 1 : 0)
        guard !plot.isEmpty else { return }
        let scale = ChartScale(xMin: xMin, xSpan: xSpan, yMin: yMin, yMax: yMax, plot: plot, symbols: options.symbols)
        let canvases = layers.map { layer in
            switch layer.source {
            case .points(let points): plotPoints(points, scale: scale, log: log)
            case .summary(let summary): summary.plot(scale: scale, log: log)
            }
        }
        compose(canvases, styles: layers.map { $0.style }, into: &screen, plot: plot, symbols: options.symbols)
        for marker in markers where marker >= xMin && marker <= xMin + xSpan {
            let column = plot.x + scale.dotColumn(marker) / scale.dotsPerCell.columns
            for y in plot.y..<plot.maxY where screen[column, y].character == " " {
                screen.set(glyphs.markerLine, x: column, y: y, style: options.markerStyle)
            }
        }
        drawLabelledMarkers(labelledMarkers, into: &screen, plot: plot, scale: scale, options: options, glyphs: glyphs)
        if options.showYLabels {
            drawYLabels(labels, into: &screen, area: area, gutter: gutter, plot: plot, style: options.labelStyle)
        }
        if options.showXLabels, plot.maxY < area.maxY {
            drawXLabels(into: &screen, plot: plot, row: plot.maxY, xMin: xMin, xMax: xMin + xSpan, options: options)
        }
    }

    /// Plots one series with per-column min/max decimation, skipping non-finite (and, in log scale,
    /// non-positive) values. One pass, no allocation besides the canvas.
    static func plotPoints(_ points: [ChartPoint], scale: ChartScale, log: Bool) -> DotCanvas {
        var plotter = ColumnPlotter(width: scale.dotWidth, height: scale.dotHeight)
        for point in points where point.x.isFinite && point.y.isFinite && (!log || point.y > 0) {
            let row = scale.dotRow(log ? log10(point.y) : point.y)
            plotter.add(column: scale.dotColumn(point.x), first: row, last: row, low: row, high: row)
        }
        return plotter.finish()
    }

    /// Turns the per-series canvases into characters; a cell takes the style of the topmost series in it.
    static func compose(
        _ canvases: [DotCanvas], styles: [CellStyle], into screen: inout Screen,
        plot: Rect, symbols: ChartSymbols
    ) {
        for row in 0..<plot.height {
            for column in 0..<plot.width {
                var bits: UInt32 = 0
                var style: CellStyle?
                for (canvas, seriesStyle) in zip(canvases, styles) {
                    let b = canvas.cellBits(column: column, row: row, symbols: symbols)
                    if b != 0 {
                        bits |= b
                        style = seriesStyle
                    }
                }
                if let style {
                    screen.set(
                        DotCanvas.character(bits: bits, symbols: symbols),
                        x: plot.x + column, y: plot.y + row, style: style)
                }
            }
        }
    }

    static func yLabels(yMin: Double, yMax: Double, rows: Int, log: Bool) -> [String] {
        let value = { (v: Double) in NumberFormat.compact(log ? pow(10, v) : v) }
        var labels = [value(yMax), value(yMin)]
        if rows >= 5 { labels.insert(value((yMax + yMin) / 2), at: 1) }
        return labels
    }

    static func drawYLabels(
        _ labels: [String], into screen: inout Screen, area: Rect, gutter: Int,
        plot: Rect, style: CellStyle
    ) {
        let rows =
            labels.count == 3 ? [plot.y, plot.y + (plot.height - 1) / 2, plot.maxY - 1] : [plot.y, plot.maxY - 1]
        for (label, row) in zip(labels, rows) {
            let text = String(label.suffix(gutter - 1))
            screen.put(text.leftPadded(to: gutter - 1), x: area.x, y: row, style: style)
        }
    }

    static func drawXLabels(
        into screen: inout Screen, plot: Rect, row: Int, xMin: Double, xMax: Double,
        options: LineChartOptions
    ) {
        let left = options.xFormat.format(xMin)
        let right = options.xFormat.format(xMax)
        screen.put(left, x: plot.x, y: row, style: options.labelStyle)
        if plot.width > left.count + right.count + 1 {
            screen.put(right, x: plot.maxX - right.count, y: row, style: options.labelStyle)
        }
        let middle = options.xFormat.format((xMin + xMax) / 2)
        let mx = plot.x + (plot.width - middle.count) / 2
        if mx > plot.x + left.count + 1, mx + middle.count < plot.maxX - right.count - 1 {
            screen.put(middle, x: mx, y: row, style: options.labelStyle)
        }
    }
}

extension LineChart {
    /// Vertical lines through the whole plot (over the curves), each with its label on the top row
    /// (the second row when the top one is taken there), right of the line when it fits, else left of
    /// it; a label with no free place is left out (the line stays).
    static func drawLabelledMarkers(
        _ markers: [ChartMarker], into screen: inout Screen, plot: Rect, scale: ChartScale, options: LineChartOptions,
        glyphs: Glyphs
    ) {
        var taken: [[Range<Int>]] = [[], []]
        for marker in markers where marker.x >= scale.xMin && marker.x <= scale.xMin + scale.xSpan {
            let column = plot.x + scale.dotColumn(marker.x) / scale.dotsPerCell.columns
            for y in plot.y..<plot.maxY { screen.set(glyphs.markerLine, x: column, y: y, style: options.markerStyle) }
            let label = String(marker.label.prefix(max(plot.width - 1, 0)))
            guard !label.isEmpty else { continue }
            let places = [column + 1, column - label.count].filter { $0 >= plot.x && $0 + label.count <= plot.maxX }
            search: for row in 0..<min(2, plot.height) {
                for start in places {
                    let range = start..<(start + label.count)
                    guard !taken[row].contains(where: { $0.overlaps(range) }) else { continue }
                    taken[row].append((range.lowerBound - 1)..<(range.upperBound + 1))
                    screen.put(label, x: start, y: plot.y + row, style: options.markerStyle.bolded())
                    break search
                }
            }
        }
    }
}

/// A vertical chart marker at `x` with a short label (e.g. "prune 50%").
public struct ChartMarker: Equatable, Sendable {
    public var x: Double
    public var label: String
    public init(x: Double, label: String) {
        self.x = x
        self.label = label
    }
}

/// Maps data coordinates to dot coordinates inside a chart's plot area.
struct ChartScale {
    let xMin: Double, xSpan: Double, yMin: Double, yMax: Double
    let dotsPerCell: (columns: Int, rows: Int)
    let dotWidth: Int, dotHeight: Int

    init(xMin: Double, xSpan: Double, yMin: Double, yMax: Double, plot: Rect, symbols: ChartSymbols) {
        self.xMin = xMin
        self.xSpan = xSpan
        self.yMin = yMin
        self.yMax = yMax
        dotsPerCell = symbols.dotsPerCell
        dotWidth = plot.width * dotsPerCell.columns
        dotHeight = plot.height * dotsPerCell.rows
    }

    /// The dot column of `x` (0 at the left edge).
    func dotColumn(_ x: Double) -> Int {
        let fraction = (x - xMin) / xSpan
        return Int((fraction * Double(dotWidth - 1)).rounded())
    }

    /// The dot row of `y` (0 at the top edge).
    func dotRow(_ y: Double) -> Int {
        let fraction = (y - yMin) / (yMax - yMin)
        return dotHeight - 1 - Int((fraction * Double(dotHeight - 1)).rounded())
    }
}
