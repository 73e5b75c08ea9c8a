import Testing

@testable import WhittleUI

@Suite struct ScreenTests {
    @Test func testScreen_putClipsAtRightEdge() {
        var screen = Screen(width: 5, height: 1)
        screen.put("abcdefg", x: 2, y: 0)
        #expect(screen.text == "  abc")
    }
}
