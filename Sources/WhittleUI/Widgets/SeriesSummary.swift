// Incremental decimation for long chart series. A SeriesSummary keeps a series' points plus a
// pyramid of block aggregates (16, 64, 256, ... points per block: x range, y range, first and last
// y, whether every value is finite and positive), updated in O(levels) per appended point. Plotting
// walks the pyramid: a block whose points all fall into one dot column is applied as a whole,
// otherwise its children are visited, down to single points. The canvas is exactly what plotting
// every point gives (`LineChart.plotPoints`), at a cost of about (dot columns × levels × 4) blocks
// instead of one step per point, so a frame stays cheap with 100k+ steps of history.

import Foundation

/// The points of one chart series with a block pyramid for fast, exact per-column decimation.
public final class SeriesSummary {
    struct Block {
        var xLow: Double, xHigh: Double
        var yLow: Double, yHigh: Double
        var yFirst: Double, yLast: Double
        /// Every point finite.
        var finite: Bool
        /// Every y > 0 (the block plots unchanged in log scale).
        var positive: Bool

        init(_ p: ChartPoint) {
            xLow = p.x
            xHigh = p.x
            yLow = p.y
            yHigh = p.y
            yFirst = p.y
            yLast = p.y
            finite = p.x.isFinite && p.y.isFinite
            positive = p.y > 0
        }

        mutating func append(_ p: ChartPoint) {
            xLow = min(xLow, p.x)
            xHigh = max(xHigh, p.x)
            yLow = min(yLow, p.y)
            yHigh = max(yHigh, p.y)
            yLast = p.y
            finite = finite && p.x.isFinite && p.y.isFinite
            positive = positive && p.y > 0
        }
    }

    /// Extent of the plottable points (finite; in log scale also y > 0, with y already log10).
    struct Extent {
        var xMin = Double.infinity, xMax = -Double.infinity
        var yMin = Double.infinity, yMax = -Double.infinity
        var isEmpty: Bool { xMin > xMax }

        mutating func include(x: Double, y: Double) {
            xMin = min(xMin, x)
            xMax = max(xMax, x)
            yMin = min(yMin, y)
            yMax = max(yMax, y)
        }
    }

    /// Points per block at level 0; each level up holds `fanOut` blocks of the level below.
    static let baseBlock = 16
    static let fanOut = 4
    static let levelCount = 8

    public private(set) var points: [ChartPoint] = []
    private var levels: [[Block]] = Array(repeating: [], count: levelCount)
    private var linear = Extent()
    private var logarithmic = Extent()

    public init(_ points: [ChartPoint] = []) {
        append(contentsOf: points)
    }

    public var count: Int { points.count }

    public func append(contentsOf newPoints: some Sequence<ChartPoint>) {
        for point in newPoints { append(point) }
    }

    public func append(_ point: ChartPoint) {
        let index = points.count
        points.append(point)
        var size = Self.baseBlock
        for level in 0..<Self.levelCount {
            if index % size == 0 {
                levels[level].append(Block(point))
            } else {
                levels[level][levels[level].count - 1].append(point)
            }
            size *= Self.fanOut
        }
        guard point.x.isFinite, point.y.isFinite else { return }
        linear.include(x: point.x, y: point.y)
        if point.y > 0 { logarithmic.include(x: point.x, y: log10(point.y)) }
    }

    /// Removes every point.
    public func removeAll() {
        points.removeAll(keepingCapacity: true)
        levels = Array(repeating: [], count: Self.levelCount)
        linear = Extent()
        logarithmic = Extent()
    }

    func extent(log: Bool) -> Extent { log ? logarithmic : linear }

    /// The same canvas as `LineChart.plotPoints(points, scale:, log:)`.
    func plot(scale: ChartScale, log: Bool) -> DotCanvas {
        var plotter = ColumnPlotter(width: scale.dotWidth, height: scale.dotHeight)
        let top = Self.levelCount - 1
        for block in levels[top].indices { visit(level: top, block: block, scale: scale, log: log, into: &plotter) }
        return plotter.finish()
    }

    private func visit(level: Int, block index: Int, scale: ChartScale, log: Bool, into plotter: inout ColumnPlotter) {
        let block = levels[level][index]
        if block.finite && (!log || block.positive) {
            let column = scale.dotColumn(block.xLow)
            if column == scale.dotColumn(block.xHigh) {
                let y = { (v: Double) in scale.dotRow(log ? log10(v) : v) }
                plotter.add(column: column, first: y(block.yFirst), last: y(block.yLast),
                            low: y(block.yHigh), high: y(block.yLow))
                return
            }
        }
        if level == 0 {
            let start = index * Self.baseBlock
            for point in points[start..<min(start + Self.baseBlock, points.count)]
            where point.x.isFinite && point.y.isFinite && (!log || point.y > 0) {
                let row = scale.dotRow(log ? log10(point.y) : point.y)
                plotter.add(column: scale.dotColumn(point.x), first: row, last: row, low: row, high: row)
            }
            return
        }
        let first = index * Self.fanOut
        for child in first..<min(first + Self.fanOut, levels[level - 1].count) {
            visit(level: level - 1, block: child, scale: scale, log: log, into: &plotter)
        }
    }
}

/// The per-column min/max state machine of `LineChart.plotPoints`: a vertical segment per dot column
/// and a line from each column's last point to the next column's first.
struct ColumnPlotter {
    var canvas: DotCanvas
    private var previous: (column: Int, row: Int)?
    private var current: (column: Int, first: Int, last: Int, low: Int, high: Int)?

    init(width: Int, height: Int) { canvas = DotCanvas(width: width, height: height) }

    /// Adds points that all fall into `column`: rows of the first and last point and the row range.
    mutating func add(column: Int, first: Int, last: Int, low: Int, high: Int) {
        if let c = current, c.column == column {
            current = (column, c.first, last, min(c.low, low), max(c.high, high))
        } else {
            flush()
            current = (column, first, last, low, high)
        }
    }

    private mutating func flush() {
        guard let c = current else { return }
        if let p = previous { canvas.line(from: p.column, p.row, to: c.column, c.first) }
        canvas.line(from: c.column, c.low, to: c.column, c.high)
        previous = (c.column, c.last)
    }

    mutating func finish() -> DotCanvas {
        flush()
        current = nil
        return canvas
    }
}
