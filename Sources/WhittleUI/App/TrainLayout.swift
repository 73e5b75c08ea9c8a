// Where each pane of the Train screen goes for a terminal size. Both render and update (mouse
// clicks) use this, so a click always lands on what is drawn there.

/// The Train screen's rectangles.
public struct TrainLayout: Equatable, Sendable {
    public var header: Rect
    public var status: Rect
    public var lossChart: Rect
    public var learningRateChart: Rect
    public var gradientChart: Rect
    public var tokens: Rect
    public var hyperparameters: Rect
    public var memory: Rect

    /// The layout for a `width` x `height` terminal (at least 80x24 for a sensible result).
    public init(width: Int, height: Int) {
        let screen = Rect(x: 0, y: 0, width: width, height: height)
        let rows = screen.splitRows([.fixed(1), .fill, .fixed(1)])
        header = rows[0]
        status = rows[2]
        let rightWidth = min(max(width * 28 / 100, 32), 48)
        let columns = rows[1].splitColumns([.fill, .fixed(rightWidth)])
        let smallChartHeight = max(7, rows[1].height * 30 / 100)
        let left = columns[0].splitRows([.fill, .fixed(smallChartHeight), .fixed(3)])
        lossChart = left[0]
        let small = left[1].splitColumns([.fill, .fill])
        learningRateChart = small[0]
        gradientChart = small[1]
        tokens = left[2]
        let hyperHeight = HyperparameterID.allCases.count + 3
        let right = columns[1].splitRows([.fixed(hyperHeight), .fill])
        hyperparameters = right[0]
        memory = right[1]
    }

    /// The pane under (x, y), if any.
    public func pane(atX x: Int, y: Int) -> Pane? {
        if hyperparameters.contains(x: x, y: y) { return .hyperparameters }
        if memory.contains(x: x, y: y) { return .memory }
        for chart in [lossChart, learningRateChart, gradientChart, tokens] where chart.contains(x: x, y: y) {
            return .charts
        }
        return nil
    }

    /// The hyperparameter row index under screen row `y`, if any.
    public func hyperparameterIndex(atY y: Int) -> Int? {
        let index = y - (hyperparameters.y + 1)
        return HyperparameterID.allCases.indices.contains(index) ? index : nil
    }
}
