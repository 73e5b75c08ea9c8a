// Where each pane of the Train screen goes for a terminal size. Both render and update (mouse
// clicks) use this, so a click always lands on what is drawn there.

/// The Train screen's rectangles.
public struct TrainLayout: Equatable, Sendable {
    public var header: Rect
    public var status: Rect
    public var lossChart: Rect
    public var learningRateChart: Rect
    public var gradientChart: Rect
    /// bf16/fp16 runs: flushed gradients (and, with fp16 loss scaling, the scale) beside the gradient norm.
    public var precisionChart: Rect?
    public var tokens: Rect
    public var hyperparameters: Rect
    public var memory: Rect

    /// The layout for a `width` x `height` terminal (at least 80x24 for a sensible result);
    /// `showsPrecision` adds the 16-bit pane to the row of small charts.
    public init(width: Int, height: Int, showsPrecision: Bool = false) {
        let screen = Rect(x: 0, y: 0, width: width, height: height)
        let rows = screen.splitRows([.fixed(1), .fill, .fixed(1)])
        header = rows[0]
        status = rows[2]
        let rightWidth = min(max(width * 28 / 100, 32), 48)
        let columns = rows[1].splitColumns([.fill, .fixed(rightWidth)])
        let smallChartHeight = max(7, rows[1].height * 30 / 100)
        let left = columns[0].splitRows([.fill, .fixed(smallChartHeight), .fixed(3)])
        lossChart = left[0]
        let small = left[1].splitColumns(showsPrecision ? [.fill, .fill, .fill] : [.fill, .fill])
        learningRateChart = small[0]
        gradientChart = small[1]
        precisionChart = showsPrecision ? small[2] : nil
        tokens = left[2]
        // All rows when they fit; on short terminals the panel scrolls and the memory panel keeps ≥ 12 rows.
        let hyperHeight = min(HyperparameterID.allCases.count + 3, max(8, rows[1].height - 12))
        let right = columns[1].splitRows([.fixed(hyperHeight), .fill])
        hyperparameters = right[0]
        memory = right[1]
    }

    /// The pane under (x, y), if any.
    public func pane(atX x: Int, y: Int) -> Pane? {
        if hyperparameters.contains(x: x, y: y) { return .hyperparameters }
        if memory.contains(x: x, y: y) { return .memory }
        for chart in [lossChart, learningRateChart, gradientChart, tokens] + [precisionChart].compactMap({ $0 })
        where chart.contains(x: x, y: y) {
            return .charts
        }
        return nil
    }

    /// Hyperparameter rows the panel shows at once (the rest scroll).
    public var visibleHyperparameterRows: Int { max(hyperparameters.height - 3, 1) }

    /// The first hyperparameter row shown when `selected` is selected (keeps the selection visible).
    public func hyperparameterOffset(selected: Int) -> Int {
        let count = HyperparameterID.allCases.count, visible = visibleHyperparameterRows
        return min(max(selected - visible + 1, 0), max(count - visible, 0))
    }

    /// The hyperparameter row index under screen row `y` while `selected` is selected, if any.
    public func hyperparameterIndex(atY y: Int, selected: Int = 0) -> Int? {
        let row = y - (hyperparameters.y + 1)
        guard (0..<visibleHyperparameterRows).contains(row) else { return nil }
        let index = row + hyperparameterOffset(selected: selected)
        return HyperparameterID.allCases.indices.contains(index) ? index : nil
    }
}
