// The incremental chart decimation draws exactly what plotting every point draws: SeriesSummary
// against LineChart.plotPoints on noisy, spiky, non-finite and log-scale data at many widths, and a
// cached render (history growing between frames, axis and smoothing switched) against a fresh one.

import Foundation
import Testing

@testable import WhittleUI

@Suite struct SeriesSummaryTests {
    static func noisy(_ count: Int, seed: UInt64 = 7, withBadValues: Bool = false) -> [ChartPoint] {
        var rng = seed
        func uniform() -> Double {
            rng ^= rng << 13
            rng ^= rng >> 7
            rng ^= rng << 17
            return Double(rng >> 11) / Double(1 << 53)
        }
        return (0..<count).map { i in
            var y = 3 * exp(-Double(i) / 900) + uniform() * 0.4 + (uniform() < 0.01 ? 2 : 0)
            if withBadValues && i % 997 == 5 { y = .nan }
            if withBadValues && i % 1201 == 9 { y = -0.5 }
            if withBadValues && i % 1999 == 11 { y = .infinity }
            return ChartPoint(x: Double(i) * 0.37 + (i > count / 2 ? 50 : 0), y: y)
        }
    }

    static func scale(_ points: [ChartPoint], columns: Int, rows: Int, log: Bool) -> ChartScale {
        let usable = points.filter { $0.x.isFinite && $0.y.isFinite && (!log || $0.y > 0) }
        let ys = usable.map { log ? log10($0.y) : $0.y }
        let xs = usable.map(\.x)
        let span = xs.max()! > xs.min()! ? xs.max()! - xs.min()! : 1
        let pad = ys.max()! > ys.min()! ? 0 : 1.0
        return ChartScale(xMin: xs.min()!, xSpan: span, yMin: ys.min()! - pad, yMax: ys.max()! + pad,
                          plot: Rect(x: 0, y: 0, width: columns, height: rows), symbols: .braille)
    }

    @Test(arguments: [1, 15, 16, 17, 100, 1000, 5000, 40_000])
    func testSummary_plotsExactlyLikeEveryPoint(count: Int) {
        for bad in [false, true] {
            let points = Self.noisy(count, withBadValues: bad)
            let summary = SeriesSummary(points)
            for log in [false, true] {
                guard points.contains(where: { $0.x.isFinite && $0.y.isFinite && (!log || $0.y > 0) }) else { continue }
                for columns in [1, 7, 40, 97, 190] {
                    let scale = Self.scale(points, columns: columns, rows: 11, log: log)
                    #expect(summary.plot(scale: scale, log: log) == LineChart.plotPoints(points, scale: scale, log: log),
                            "count \(count) bad \(bad) log \(log) columns \(columns)")
                }
            }
        }
    }

    @Test func testSummary_extentMatchesThePoints() {
        let points = Self.noisy(3000, withBadValues: true)
        let summary = SeriesSummary(points)
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        #expect(summary.extent(log: false).yMin == finite.map(\.y).min())
        #expect(summary.extent(log: false).yMax == finite.map(\.y).max())
        #expect(summary.extent(log: true).yMin == finite.filter { $0.y > 0 }.map { log10($0.y) }.min())
        summary.removeAll()
        #expect(summary.count == 0 && summary.extent(log: false).isEmpty)
    }

    @Test func testRenderCache_cachedFramesEqualFreshFrames() {
        var run = DemoRun(totalSteps: 6000)
        run.advance(steps: 2500)
        run.apply(.learningRate, .real(5e-4))
        var state = AppState(width: 160, height: 48)
        state.runState = .running
        let cache = RenderCache()
        for frame in 0..<8 {
            run.advance(steps: frame * 37 + 1)
            if frame == 3 { state.chart.xAxis = .time }
            if frame == 4 { state.chart.smoothingLevel = 6 }
            if frame == 5 { state.chart.logScale = true }
            if frame == 6 { state.chart.smoothingLevel = 0 }
            let cached = render(state, run.snapshot, .builtinDefault, cache: cache)
            let fresh = render(state, run.snapshot, .builtinDefault)
            #expect(cached == fresh, "frame \(frame)")
        }
        // A replaced history (a new run) is noticed, not appended to.
        var other = DemoRun(totalSteps: 3000, seed: 99)
        other.advance(steps: 100)
        #expect(render(state, other.snapshot, .builtinDefault, cache: cache)
            == render(state, other.snapshot, .builtinDefault))
    }

    @Test func testRenderCache_smoothedSeriesEqualsSmoothing() {
        let metric = (1...500).map { MetricPoint(step: $0, seconds: Double($0) / 10, value: sin(Double($0)) + 2) }
        let cache = RenderCache()
        _ = cache.smoothed("m", Array(metric.prefix(200)), axis: .step, beta: 0.9)
        let summary = cache.smoothed("m", metric, axis: .step, beta: 0.9)
        let expected = Smoothing.debiasedEMA(metric.map { ChartPoint(x: Double($0.step), y: $0.value) }, beta: 0.9)
        #expect(summary.points.count == expected.count)
        #expect(zip(summary.points, expected).allSatisfy { abs($0.y - $1.y) < 1e-12 && $0.x == $1.x })
    }
}
