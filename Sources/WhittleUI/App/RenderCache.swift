// What rendering keeps between frames so that a frame costs O(new points), not O(history): one
// SeriesSummary per chart series (raw or smoothed, by step or by time), extended with the points
// that arrived since the last frame and rebuilt only when the x axis or the smoothing changes or
// the history is replaced. `render` stays a function of its inputs: a cache never changes what is
// drawn, only how fast (tests check cached and uncached frames are identical).

/// Chart series summaries kept between frames; pass the same cache to every `render` call.
public final class RenderCache {
    final class Entry {
        let summary = SeriesSummary()
        var axis: ChartXAxis
        var beta: Double
        /// Source points consumed, and the last one (to notice a replaced history).
        var consumed = 0
        var last: MetricPoint?
        /// EMA state after `consumed` points.
        var ema = 0.0, correction = 1.0, seen = false

        init(axis: ChartXAxis, beta: Double) {
            self.axis = axis
            self.beta = beta
        }
    }

    private var entries: [String: Entry] = [:]

    public init() {}

    /// Summaries currently held (for tests).
    public var entryCount: Int { entries.count }

    /// The raw series `id` of `metric` by `axis`.
    public func raw(_ id: String, _ metric: [MetricPoint], axis: ChartXAxis) -> SeriesSummary {
        series(id + ".raw", metric, axis: axis, beta: 0)
    }

    /// The debiased EMA (weight `beta`, as `Smoothing.debiasedEMA`) of `metric` by `axis`.
    public func smoothed(_ id: String, _ metric: [MetricPoint], axis: ChartXAxis, beta: Double) -> SeriesSummary {
        series(id + ".ema", metric, axis: axis, beta: min(max(beta, 0), 0.999))
    }

    private func series(_ key: String, _ metric: [MetricPoint], axis: ChartXAxis, beta: Double) -> SeriesSummary {
        var entry = entries[key] ?? Entry(axis: axis, beta: beta)
        let replaced = metric.count < entry.consumed
            || (entry.consumed > 0 && metric[entry.consumed - 1] != entry.last)
        if entry.axis != axis || entry.beta != beta || replaced { entry = Entry(axis: axis, beta: beta) }
        entries[key] = entry
        guard metric.count > entry.consumed else { return entry.summary }
        for point in metric[entry.consumed...] {
            let x = axis == .step ? Double(point.step) : point.seconds
            var y = point.value
            if beta > 0 {
                if y.isFinite {
                    entry.ema = beta * entry.ema + (1 - beta) * y
                    entry.correction *= beta
                    entry.seen = true
                }
                y = entry.seen ? entry.ema / (1 - entry.correction) : .nan
            }
            entry.summary.append(ChartPoint(x: x, y: y))
        }
        entry.consumed = metric.count
        entry.last = metric.last
        return entry.summary
    }
}
