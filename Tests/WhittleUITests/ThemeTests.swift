// Tests for theme parsing (grammar, errors with line numbers), the shipped theme files, the
// catalog's search path, colour downgrades and colour-mode detection.

import Foundation
import Testing
import WhittleTestSupport

@testable import WhittleUI

@Suite struct ThemeTests {
    static let themesDirectory = Repository.path("themes")

    @Test func testTheme_parsesAllColourFormsAndComments() throws {
        let text = """
            # comment
            theme[main_bg]=""
              theme[main_fg]="#A0B1C2"   
            theme[title]="#80"
            theme[hi_fg]="10 20 30"
            """
        let theme = try Theme.parse(name: "t", text: text)
        #expect(theme.color(.mainBackground) == nil)
        #expect(theme.color(.mainForeground) == RGB(0xA0, 0xB1, 0xC2))
        #expect(theme.color(.title) == RGB(0x80, 0x80, 0x80))
        #expect(theme.color(.highlight) == RGB(10, 20, 30))
        #expect(!theme.missingKeys.contains(.mainBackground), "an empty value counts as defined")
        #expect(theme.missingKeys.contains(.lossTrain))
    }

    @Test func testTheme_malformedLineReportsLineNumber() {
        #expect(throws: ThemeError(themeName: "bad", line: 3, message: "expected theme[key]=\"#RRGGBB\", found 'oops'"))
        {
            try Theme.parse(name: "bad", text: "# ok\ntheme[title]=\"#FFFFFF\"\noops")
        }
    }

    @Test func testTheme_unknownKeyAndBadColourAreErrors() {
        do {
            _ = try Theme.parse(name: "t", text: "theme[titel]=\"#FFFFFF\"")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 1 && error.message.contains("unknown key 'titel'"))
        }
        do {
            _ = try Theme.parse(name: "t", text: "\ntheme[title]=\"#GGGGGG\"")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2 && error.message.contains("is not a colour"))
        }
        do {
            _ = try Theme.parse(name: "t", text: "theme[title]=#FFFFFF")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("double quotes"))
        }
    }

    @Test func testTheme_everyShippedThemeDefinesEveryKey() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.themesDirectory).filter {
            $0.hasSuffix(".theme")
        }
        #expect(Set(files).isSuperset(of: ["default.theme", "light.theme", "mono.theme", "ember.theme"]))
        for file in files {
            let text = try String(contentsOfFile: Self.themesDirectory + "/" + file, encoding: .utf8)
            let theme = try Theme.parse(name: String(file.dropLast(6)), text: text)
            #expect(theme.missingKeys.isEmpty, "\(file) lacks \(theme.missingKeys.map(\.rawValue))")
        }
    }

    @Test func testTheme_shippedDefaultAndMonoMatchBuiltins() throws {
        let catalog = ThemeCatalog.load(from: [Self.themesDirectory])
        #expect(catalog.errors.isEmpty)
        #expect(catalog.theme(named: "default") == .builtinDefault)
        #expect(catalog.theme(named: "mono")?.colors == Theme.monochrome.colors)
        #expect(catalog.theme(named: "mono")?.hasColor == false)
        #expect(catalog.names.prefix(3) == ["default", "light", "mono"])
    }

    @Test func testThemeCatalog_userDirectoryComesFirstAndWins() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-theme-test")
        let user = scratch.url
        try "theme[title]=\"#010203\"\n".write(
            to: user.appendingPathComponent("default.theme"), atomically: true, encoding: .utf8)
        try "nonsense\n".write(to: user.appendingPathComponent("broken.theme"), atomically: true, encoding: .utf8)
        let catalog = ThemeCatalog.load(from: [user.path, Self.themesDirectory])
        #expect(catalog.theme(named: "default")?.color(.title) == RGB(1, 2, 3))
        #expect(
            catalog.theme(named: "default")?.color(.lossTrain) == Theme.builtinDefault.color(.lossTrain),
            "missing keys inherit")
        #expect(catalog.errors.map(\.themeName) == ["broken"])
    }

    @Test func testThemeCatalog_searchDirectoriesFollowXDG() {
        let xdg = ThemeCatalog.searchDirectories(
            environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"],
            workingDirectory: "/w", executableDirectory: "/b")
        #expect(xdg == ["/x/whittle/themes", "/w/themes", "/b/../share/whittle/themes"])
        let home = ThemeCatalog.searchDirectories(
            environment: ["HOME": "/h"], workingDirectory: nil, executableDirectory: nil)
        #expect(home == ["/h/.config/whittle/themes"])
    }

    @Test func testRGB_downgradesToXterm256AndAnsi8() {
        #expect(RGB(255, 0, 0).xterm256Index == 196)
        #expect(RGB(0, 0, 0).xterm256Index == 16)
        #expect(RGB(128, 128, 128).xterm256Index == 244)
        #expect(RGB(95, 135, 175).xterm256Index == 16 + 36 * 1 + 6 * 2 + 3)
        #expect(RGB(230, 40, 40).ansi8Index == 1)
        #expect(RGB(40, 200, 60).ansi8Index == 2)
        #expect(RGB(240, 240, 240).ansi8Index == 7)
        #expect(RGB(20, 20, 20).ansi8Index == 0)
        #expect(RGB(hex: "#5fd3a8")?.description == "#5fd3a8")
    }

    @Test func testColorMode_detectHonoursNoColorAndColorterm() {
        #expect(
            ColorMode.detect(environment: ["NO_COLOR": "1", "COLORTERM": "truecolor"], terminalColors: 256) == .none)
        #expect(
            ColorMode.detect(environment: ["NO_COLOR": ""], terminalColors: 256) == .xterm256,
            "empty NO_COLOR is ignored")
        #expect(ColorMode.detect(environment: ["COLORTERM": "24bit"], terminalColors: 256) == .truecolor)
        #expect(ColorMode.detect(environment: [:], terminalColors: 8) == .ansi8)
        #expect(ColorMode.detect(environment: ["TERM": "dumb"], terminalColors: 8) == .none)
    }

    @Test func testGlyphs_selectASCIIForNonUTF8OrFlag() {
        #expect(Glyphs.select(forceASCII: false, localeIsUTF8: true) == .unicode)
        #expect(Glyphs.select(forceASCII: true, localeIsUTF8: true) == .ascii)
        #expect(Glyphs.select(forceASCII: false, localeIsUTF8: false) == .ascii)
        let g = Glyphs.ascii
        let all =
            [g.horizontal, g.vertical, g.topLeft, g.markerLine, g.pointer, g.ellipsis, g.bullet, g.times]
            + g.sparkLevels + g.barLevels + g.stackFills
        #expect(all.allSatisfy { $0.isASCII } && g.separator.allSatisfy(\.isASCII))
    }
}
