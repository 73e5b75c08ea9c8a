// Tests for the line chart (braille, block and ASCII), decimation, markers, log scale and smoothing.

import Testing

@testable import WhittleUI

@Suite struct ChartTests {
    static let bare: LineChartOptions = {
        var options = LineChartOptions(symbols: .braille)
        options.showXLabels = false
        options.showYLabels = false
        return options
    }()

    @Test func testLineChart_brailleDiagonalLandsOnExpectedCells() {
        var screen = Screen(width: 4, height: 2)
        let line = ChartSeries(points: [ChartPoint(x: 0, y: 0), ChartPoint(x: 7, y: 7)], style: .plain)
        LineChart.draw(into: &screen, area: screen.bounds, series: [line], options: Self.bare, glyphs: .unicode)
        // 8x8 dots; the diagonal passes (0,7),(1,6) | (2,5),(3,4) | (4,3),(5,2) | (6,1),(7,0).
        #expect(screen.lines == ["  ⡠⠊", "⡠⠊  "])
    }

    @Test func testLineChart_horizontalLineFillsTheMiddleRow() {
        var screen = Screen(width: 3, height: 1)
        let line = ChartSeries(points: [ChartPoint(x: 0, y: 5), ChartPoint(x: 1, y: 5)], style: .plain)
        LineChart.draw(into: &screen, area: screen.bounds, series: [line], options: Self.bare, glyphs: .unicode)
        // A constant is padded symmetrically: of 4 dot rows the value maps to row 1 (bits 0x02 | 0x10).
        #expect(screen.line(0) == "⠒⠒⠒")
    }

    @Test func testLineChart_blockSymbolsUseQuadrants() {
        var screen = Screen(width: 2, height: 2)
        var options = Self.bare
        options.symbols = .block
        let line = ChartSeries(points: [ChartPoint(x: 0, y: 0), ChartPoint(x: 3, y: 3)], style: .plain)
        LineChart.draw(into: &screen, area: screen.bounds, series: [line], options: options, glyphs: .unicode)
        #expect(screen.lines == [" ▞", "▞ "])
    }

    @Test func testLineChart_asciiFallbackHasNoByteAbove127() {
        var screen = Screen(width: 30, height: 8)
        var options = LineChartOptions(symbols: .ascii)
        options.logScale = true
        let points = (1...200).map { ChartPoint(x: Double($0), y: 5 / Double($0) + Double($0 % 7) * 0.01) }
        LineChart.draw(
            into: &screen, area: screen.bounds, series: [ChartSeries(points: points, style: .plain)],
            markers: [50], options: options, glyphs: .ascii)
        #expect(screen.text.utf8.allSatisfy { $0 < 0x80 })
        #expect(screen.text.contains("|") || screen.text.contains("-"))
    }

    @Test func testLineChart_decimationKeepsASpikeVisible() {
        var screen = Screen(width: 10, height: 4)
        var points = (0..<10_000).map { ChartPoint(x: Double($0), y: 1) }
        points[5_000].y = 100
        LineChart.draw(
            into: &screen, area: screen.bounds, series: [ChartSeries(points: points, style: .plain)],
            options: Self.bare, glyphs: .unicode)
        #expect(screen.line(0).contains { $0 != " " }, "the spike reaches the top row")
    }

    @Test func testLineChart_axisLabelsShowRange() {
        var screen = Screen(width: 30, height: 6)
        let points = [ChartPoint(x: 0, y: 2), ChartPoint(x: 100, y: 4)]
        LineChart.draw(
            into: &screen, area: screen.bounds, series: [ChartSeries(points: points, style: .plain)],
            options: LineChartOptions(symbols: .braille), glyphs: .unicode)
        #expect(screen.line(0).hasPrefix("4.00"))
        #expect(screen.line(4).hasPrefix("2.00"))
        #expect(screen.line(5).contains("0") && screen.line(5).hasSuffix("100"))
    }

    @Test func testLineChart_markerDrawnInEmptyCells() {
        var screen = Screen(width: 10, height: 3)
        let points = [ChartPoint(x: 0, y: 0), ChartPoint(x: 9, y: 0)]
        LineChart.draw(
            into: &screen, area: screen.bounds, series: [ChartSeries(points: points, style: .plain)],
            markers: [9], options: Self.bare, glyphs: .unicode)
        #expect(screen[9, 0].character == "┊")
    }

    @Test func testLineChart_logScaleDropsNonPositiveValues() {
        var screen = Screen(width: 20, height: 4)
        var options = LineChartOptions(symbols: .braille)
        options.logScale = true
        let points = [ChartPoint(x: 0, y: -1), ChartPoint(x: 1, y: 1), ChartPoint(x: 2, y: 1000)]
        LineChart.draw(
            into: &screen, area: screen.bounds, series: [ChartSeries(points: points, style: .plain)],
            options: options, glyphs: .unicode)
        #expect(screen.line(0).hasPrefix("1000"))
        #expect(screen.line(2).hasPrefix("1.00"))
    }

    @Test func testLineChart_emptySeriesSaysSo() {
        var screen = Screen(width: 20, height: 3)
        LineChart.draw(
            into: &screen, area: screen.bounds, series: [ChartSeries(points: [], style: .plain)],
            options: LineChartOptions(symbols: .braille), glyphs: .unicode)
        #expect(screen.line(1).contains("no data yet"))
    }

    @Test func testSmoothing_debiasedEMAStartsAtFirstValueAndConverges() {
        let smoothed = Smoothing.debiasedEMA([10, 10, 10, 0, 0, 0, 0, 0, 0, 0], beta: 0.5)
        #expect(smoothed[0] == 10, "debiasing removes the pull toward zero")
        #expect(smoothed[2] == 10)
        #expect(smoothed[3] < 10 && smoothed[9] < 0.1)
        #expect(Smoothing.debiasedEMA([1, 2, 3], beta: 0) == [1, 2, 3])
    }

    @Test func testSmoothing_skipsNonFiniteValues() {
        let smoothed = Smoothing.debiasedEMA([.nan, 4, .infinity, 4], beta: 0.9)
        #expect(smoothed[0].isNaN)
        #expect(abs(smoothed[1] - 4) < 1e-12 && abs(smoothed[2] - 4) < 1e-12 && abs(smoothed[3] - 4) < 1e-12)
    }
}
