// Tests for Screen drawing helpers, Rect layout and boxes.

import Testing

@testable import WhittleUI

@Suite struct LayoutTests {
    @Test func testRect_splitRowsGivesFixedThenFillShares() {
        let parts = Rect(x: 0, y: 0, width: 10, height: 10).splitRows([.fixed(2), .fill, .fill])
        #expect(parts.map(\.height) == [2, 4, 4])
        #expect(parts.map(\.y) == [0, 2, 6])
    }

    @Test func testRect_splitColumnsClampsToAvailableWidth() {
        let parts = Rect(x: 5, y: 0, width: 10, height: 1).splitColumns([.fixed(8), .fixed(8), .fill])
        #expect(parts.map(\.width) == [8, 2, 0])
        #expect(parts[1].x == 13)
    }

    @Test func testRect_fractionAndInset() {
        let parts = Rect(x: 0, y: 0, width: 100, height: 1).splitColumns([.fraction(0.25), .fill])
        #expect(parts.map(\.width) == [25, 75])
        #expect(Rect(x: 0, y: 0, width: 10, height: 5).inset(by: 1) == Rect(x: 1, y: 1, width: 8, height: 3))
        #expect(Rect(x: 0, y: 0, width: 1, height: 1).inset(by: 1).isEmpty)
    }

    @Test func testRect_centeredFitsInside() {
        let inner = Rect(x: 0, y: 0, width: 20, height: 10).centered(width: 30, height: 4)
        #expect(inner == Rect(x: 0, y: 3, width: 20, height: 4))
    }

    @Test func testScreen_boxDrawsBorderAndTitle() {
        var screen = Screen(width: 10, height: 3)
        let inner = screen.box(screen.bounds, title: "ab", glyphs: .unicode, style: .plain)
        #expect(screen.lines == ["╭ ab ────╮", "│        │", "╰────────╯"])
        #expect(inner == Rect(x: 1, y: 1, width: 8, height: 1))
    }

    @Test func testScreen_asciiBoxUsesOnlyASCII() {
        var screen = Screen(width: 6, height: 3)
        screen.box(screen.bounds, title: "x", glyphs: .ascii, style: .plain)
        #expect(screen.lines == ["+ x -+", "|    |", "+----+"])
    }

    @Test func testScreen_putInRectTruncatesWithEllipsis() {
        var screen = Screen(width: 8, height: 1)
        screen.put("abcdefgh", in: Rect(x: 1, y: 0, width: 4, height: 1), row: 0, style: .plain, ellipsis: "…")
        #expect(screen.line(0) == " abc…   ")
    }

    @Test func testScreen_fillAndSetIgnoreOffScreen() {
        var screen = Screen(width: 3, height: 2)
        screen.fill(Rect(x: 2, y: 1, width: 5, height: 5), with: "#", style: .plain)
        screen.set("x", x: -1, y: 0, style: .plain)
        #expect(screen.lines == ["   ", "  #"])
    }
}
