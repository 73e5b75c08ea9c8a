// Tests for the sparkline, bars, table, text field, overlays and number formats.

import Testing

@testable import WhittleUI

@Suite struct WidgetTests {
    @Test func testSparkline_scalesToEighthBlocksAndKeepsTheLatestValues() {
        var screen = Screen(width: 4, height: 1)
        Sparkline.draw(into: &screen, area: screen.bounds, values: [99, 0, 2, 4, 8], style: .plain, glyphs: .unicode)
        #expect(screen.line(0) == " ▂▄█")
    }

    @Test func testSparkline_asciiRamp() {
        var screen = Screen(width: 3, height: 1)
        Sparkline.draw(into: &screen, area: screen.bounds, values: [0, 4, 8], style: .plain, glyphs: .ascii)
        #expect(screen.line(0) == " =@")
    }

    @Test func testBars_meterUsesPartialBlocks() {
        var screen = Screen(width: 4, height: 1)
        Bars.meter(
            into: &screen, area: screen.bounds, fraction: 0.625, style: .plain, emptyStyle: .plain,
            glyphs: .unicode)
        #expect(screen.line(0) == "██▌ ")
    }

    @Test func testBars_stackedSegmentsAddUpAndLeaveTail() {
        var screen = Screen(width: 10, height: 1)
        let segments = [BarSegment(value: 2, style: .plain, fill: "a"), BarSegment(value: 3, style: .plain, fill: "b")]
        Bars.stacked(
            into: &screen, area: screen.bounds, segments: segments, total: 10, emptyStyle: .plain, emptyFill: ".")
        #expect(screen.line(0) == "aabbb.....")
    }

    @Test func testTable_alignsColumnsAndHighlightsSelection() {
        var screen = Screen(width: 12, height: 3)
        let selected = CellStyle(reverse: true)
        Table.draw(
            into: &screen, area: screen.bounds,
            columns: [TableColumn("name", width: 5), TableColumn("n", alignment: .right)],
            rows: [["a", "1"], ["bb", "22"]], selected: 1, headerStyle: .plain, style: .plain,
            selectedStyle: selected, glyphs: .unicode)
        #expect(screen.lines == ["name       n", "a          1", "bb        22"])
        #expect(screen[0, 2].style.reverse && !screen[0, 1].style.reverse)
    }

    @Test func testTable_scrollsToKeepSelectionVisible() {
        var screen = Screen(width: 4, height: 2)
        Table.draw(
            into: &screen, area: screen.bounds, columns: [TableColumn("x")], rows: (0..<9).map { [String($0)] },
            selected: 7, showHeader: false, headerStyle: .plain, style: .plain, selectedStyle: .plain, glyphs: .unicode)
        #expect(screen.lines == ["6   ", "7   "])
    }

    @Test func testTextField_editingOperations() {
        var field = TextField("12")
        field.moveLeft()
        field.insert("x")
        #expect(field.text == "1x2" && field.cursor == 2)
        field.backspace()
        field.deleteForward()
        #expect(field.text == "1" && field.cursor == 1)
        field.moveHome()
        field.insert("0")
        field.moveEnd()
        #expect(field.text == "01" && field.cursor == 2)
    }

    @Test func testTextField_drawScrollsToCursorAndMarksIt() {
        var screen = Screen(width: 3, height: 1)
        TextField("abcdef").draw(into: &screen, area: screen.bounds, style: .plain)
        #expect(screen.line(0) == "ef ")
        #expect(screen[2, 0].style.reverse)
    }

    @Test func testOverlays_statusBarKeepsRightTextWhenItFits() {
        var screen = Screen(width: 30, height: 1)
        Overlays.statusBar(
            into: &screen, area: screen.bounds, hints: [KeyHint(keys: "q", description: "quit")],
            right: "ok", style: .plain, keyStyle: .plain)
        #expect(screen.line(0).hasPrefix(" q quit ") && screen.line(0).hasSuffix(" ok "))
    }

    @Test func testOverlays_helpListsEverySection() {
        var screen = Screen(width: 80, height: Keymap.helpLineCount(ascii: false) + 8)
        let total = Overlays.help(
            into: &screen, area: screen.bounds, sections: Keymap.helpSections(ascii: false), scroll: 0,
            style: .plain, borderStyle: .plain, titleStyle: .plain, keyStyle: .plain, glyphs: .unicode)
        for context in KeyContext.allCases { #expect(screen.text.contains(context.title)) }
        #expect(total >= Keymap.bindings.count)
    }

    @Test func testNumberFormat_compactBytesDuration() {
        #expect(NumberFormat.compact(0.0003) == "3.0e-4")
        #expect(NumberFormat.compact(12_345) == "12.3k")
        #expect(NumberFormat.compact(2.5) == "2.50")
        #expect(NumberFormat.bytes(512) == "512 B")
        #expect(NumberFormat.bytes(3 * 1024 * 1024 + 512 * 1024) == "3.5 MiB")
        #expect(NumberFormat.duration(187) == "3m07s")
        #expect(NumberFormat.duration(3720) == "1h02m")
        #expect(NumberFormat.grouped(1_234_567) == "1,234,567")
    }
}
