// The only code that calls ncursesw: sets up the terminal (locale first, then curses modes and
// colours), presents a Screen by writing only the cells that changed since the last frame, decodes
// keys, mouse and resize into Actions, and restores the terminal. ncurses is not thread-safe: create,
// use and stop a CursesTerminal on one thread only.

import CNCurses
import WhittleUI

/// Whether the process's locale uses UTF-8 once `setlocale` has run.
public func localeIsUTF8() -> Bool {
    setlocale(LC_ALL, "")
    return currentCodesetIsUTF8()
}

func currentCodesetIsUTF8() -> Bool {
    guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
    return String(cString: codeset).uppercased().replacingUTF8Dash().contains("UTF8")
}

extension String {
    func replacingUTF8Dash() -> String { String(filter { $0 != "-" }) }
}

/// Settings for opening the terminal.
public struct CursesOptions: Sendable {
    /// Report mouse clicks and the wheel (`--no-mouse` turns this off).
    public var mouse = true
    /// Use ASCII glyphs even in a UTF-8 locale (`--ascii`).
    public var forceASCII = false
    /// Environment used for colour detection (`NO_COLOR`, `COLORTERM`, `TERM`).
    public var environment: [String: String]

    public init(mouse: Bool = true, forceASCII: Bool = false, environment: [String: String]) {
        self.mouse = mouse
        self.forceASCII = forceASCII
        self.environment = environment
    }
}

/// A full-screen ncursesw terminal.
public final class CursesTerminal: Terminal {
    /// Colours actually used (after NO_COLOR and the terminal's capability).
    public let colorMode: ColorMode
    /// Whether glyphs beyond ASCII may be drawn (UTF-8 locale and no `--ascii`).
    public let supportsUnicode: Bool
    private var previous: Screen?
    private var pairs: [PairKey: Int16] = [:]
    private var nextPair: Int32 = 1
    private let maxPairs: Int32
    private let directColor: Bool
    private var active = false

    private struct PairKey: Hashable {
        var foreground: Int32
        var background: Int32
    }

    /// Why the terminal named by TERM in `environment` cannot show the workbench (it cannot address
    /// the cursor, or terminfo does not know it), or nil when it can. Checked before `init`, whose
    /// initscr would otherwise leave a blank screen (TERM=dumb) or exit the process (unknown TERM).
    public static func capabilityProblem(environment: [String: String]) -> String? {
        let term = environment["TERM"] ?? ""
        guard !term.isEmpty else { return "TERM is not set, so the terminal's capabilities are unknown" }
        var colors: Int32 = -1
        switch cn_terminal_capabilities(term, &colors) {
        case 1: return nil
        case 0: return "the terminal TERM=\(term) cannot move the cursor, which the full-screen workbench needs"
        default: return "the terminal type TERM=\(term) is not in the terminfo database"
        }
    }

    /// Whether TERM names a terminal to draw with ASCII and without colour whatever the locale says:
    /// the DEC VT family and terminals with fewer than 8 colours (no braille or box drawing there).
    static func isLegacy(environment: [String: String], colors: Int32) -> Bool {
        let term = environment["TERM"] ?? ""
        return term.hasPrefix("vt") || term == "dumb" || colors < 8
    }

    /// Initialises curses: locale (falling back to C.UTF-8 so wide characters work), cbreak, noecho,
    /// keypad, hidden cursor, default colours, mouse, and the signal handlers that restore the terminal.
    public init(options: CursesOptions) {
        setlocale(LC_ALL, "")
        let localeUTF8 = currentCodesetIsUTF8()
        if !localeUTF8 { setlocale(LC_ALL, "C.UTF-8") }
        initscr()
        cbreak()
        noecho()
        nonl()
        keypad(cn_stdscr(), true)
        set_escdelay(25)
        curs_set(0)
        var mode = ColorMode.none
        if has_colors() {
            start_color()
            use_default_colors()
            let capability: ColorMode =
                cn_colors() >= 1 << 24
                ? .truecolor
                : cn_colors() >= 256
                    ? .xterm256
                    : cn_colors() >= 8 ? .ansi8 : .none
            let wanted = ColorMode.detect(environment: options.environment, terminalColors: Int(cn_colors()))
            mode = wanted.rank < capability.rank ? wanted : capability
        }
        colorMode = mode
        supportsUnicode = localeUTF8 && !options.forceASCII
            && !Self.isLegacy(environment: options.environment, colors: has_colors() ? cn_colors() : 0)
        directColor = mode == .truecolor
        maxPairs = min(cn_color_pairs(), 32767)
        if options.mouse { cn_mouse_enable(1) }
        active = true
        TerminalSignals.install()
        TerminalSignals.captureStandardError()
    }

    deinit { stop() }

    /// Restores the terminal (endwin); safe to call more than once.
    public func stop() {
        guard active else { return }
        active = false
        cn_mouse_enable(0)
        curs_set(1)
        endwin()
        TerminalSignals.replayStandardError()
        TerminalSignals.uninstall()
    }

    /// Columns and rows right now.
    public var size: (width: Int, height: Int) { (Int(cn_cols()), Int(cn_lines())) }

    /// The next key, mouse or resize event, waiting at most `timeoutMilliseconds`.
    public func nextAction(timeoutMilliseconds: Int) -> Action? {
        timeout(Int32(timeoutMilliseconds))
        var character: wint_t = 0
        let result = cn_get_wch(&character)
        if result == ERR { return nil }
        if result == cn_key_code_yes() { return decodeKeyCode(Int32(character)) }
        return decodeCharacter(UInt32(character))
    }

    private func decodeCharacter(_ value: UInt32) -> Action? {
        switch value {
        case 9: return .key(.tab)
        case 10, 13: return .key(.enter)
        case 27: return .key(.escape)
        case 8, 127: return .key(.backspace)
        default:
            guard value >= 32, let scalar = Unicode.Scalar(value) else { return nil }
            return .key(.character(Character(scalar)))
        }
    }

    private func decodeKeyCode(_ code: Int32) -> Action? {
        switch code {
        case KEY_RESIZE:
            previous = nil
            return .resize(width: Int(cn_cols()), height: Int(cn_lines()))
        case KEY_MOUSE:
            var x: Int32 = 0
            var y: Int32 = 0
            switch cn_read_mouse(&x, &y) {
            case 1: return .mouse(MouseEvent(x: Int(x), y: Int(y), kind: .press))
            case 2: return .mouse(MouseEvent(x: Int(x), y: Int(y), kind: .wheelUp))
            case 3: return .mouse(MouseEvent(x: Int(x), y: Int(y), kind: .wheelDown))
            default: return nil
            }
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_LEFT: return .key(.left)
        case KEY_RIGHT: return .key(.right)
        case KEY_HOME: return .key(.home)
        case KEY_END: return .key(.end)
        case KEY_PPAGE: return .key(.pageUp)
        case KEY_NPAGE: return .key(.pageDown)
        case KEY_BACKSPACE: return .key(.backspace)
        case KEY_DC: return .key(.delete)
        case KEY_BTAB: return .key(.backTab)
        case KEY_ENTER: return .key(.enter)
        default:
            for n in 1...12 where code == cn_key_f(Int32(n)) { return .key(.function(n)) }
            return nil
        }
    }

    /// Shows `screen`, writing only cells that differ from the previous frame (all after a resize).
    public func present(_ screen: Screen) {
        guard active else { return }
        let full = previous.map { $0.width != screen.width || $0.height != screen.height } ?? true
        if full { erase() }
        for y in 0..<screen.height {
            for x in 0..<screen.width {
                let cell = screen[x, y]
                if !full, let previous, previous[x, y] == cell { continue }
                write(cell, x: Int32(x), y: Int32(y))
            }
        }
        previous = screen
        refresh()
    }

    private func write(_ cell: Cell, x: Int32, y: Int32) {
        var attributes: attr_t = 0
        if cell.style.bold { attributes |= cn_a_bold() }
        if cell.style.dim { attributes |= cn_a_dim() }
        if cell.style.reverse { attributes |= cn_a_reverse() }
        if cell.style.underline { attributes |= cn_a_underline() }
        let pair = pairNumber(foreground: cell.style.foreground, background: cell.style.background)
        var scalar = cell.character.unicodeScalars.first?.value ?? 32
        if !supportsUnicode && scalar > 0x7E { scalar = 0x3F }  // '?' for anything non-ASCII
        _ = cn_put_wch(y, x, wchar_t(bitPattern: scalar), attributes | cn_color_pair(Int32(pair)), pair)
    }

    private func colorNumber(_ color: RGB?) -> Int32 {
        guard let color else { return -1 }
        switch colorMode {
        case .none: return -1
        case .ansi8: return Int32(color.ansi8Index)
        case .xterm256: return Int32(color.xterm256Index)
        case .truecolor:
            return directColor
                ? Int32(color.red) << 16 | Int32(color.green) << 8 | Int32(color.blue)
                : Int32(color.xterm256Index)
        }
    }

    private func pairNumber(foreground: RGB?, background: RGB?) -> Int16 {
        guard colorMode != .none else { return 0 }
        let key = PairKey(foreground: colorNumber(foreground), background: colorNumber(background))
        if key.foreground == -1 && key.background == -1 { return 0 }
        if let pair = pairs[key] { return pair }
        guard nextPair < maxPairs else { return 0 }
        init_extended_pair(nextPair, key.foreground, key.background)
        let pair = Int16(nextPair)
        pairs[key] = pair
        nextPair += 1
        return pair
    }
}

extension ColorMode {
    /// Ordering from no colour to truecolor.
    var rank: Int { ColorMode.allCases.firstIndex(of: self) ?? 0 }
}
