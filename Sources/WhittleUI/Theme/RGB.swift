// Colours and how they degrade: a 24-bit RGB value, the xterm-256 palette (6x6x6 cube plus grey
// ramp) and the 8 basic ANSI colours, and the colour mode a terminal supports (NO_COLOR aware).

/// A 24-bit colour.
public struct RGB: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Parses `#RRGGBB` or `#BW` (two hex digits: a grey level, as in btop themes).
    public init?(hex: String) {
        guard hex.hasPrefix("#") else { return nil }
        let digits = hex.dropFirst()
        guard digits.allSatisfy(\.isHexDigit) else { return nil }
        switch digits.count {
        case 6:
            guard let value = UInt32(digits, radix: 16) else { return nil }
            self.init(UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF))
        case 2:
            guard let grey = UInt8(digits, radix: 16) else { return nil }
            self.init(grey, grey, grey)
        default:
            return nil
        }
    }

    /// `#rrggbb`.
    public var description: String {
        "#" + [red, green, blue].map { String($0, radix: 16).leftPadded(to: 2, with: "0") }.joined()
    }

    /// The levels of the xterm 6x6x6 colour cube.
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// The nearest xterm-256 palette index (16...255: the cube or the grey ramp, whichever is closer).
    public var xterm256Index: Int {
        func nearestCube(_ v: UInt8) -> Int {
            RGB.cubeLevels.indices.min { abs(RGB.cubeLevels[$0] - Int(v)) < abs(RGB.cubeLevels[$1] - Int(v)) } ?? 0
        }
        let (r, g, b) = (nearestCube(red), nearestCube(green), nearestCube(blue))
        let cube = RGB(UInt8(RGB.cubeLevels[r]), UInt8(RGB.cubeLevels[g]), UInt8(RGB.cubeLevels[b]))
        let average = (Int(red) + Int(green) + Int(blue)) / 3
        let greyStep = min(max((average - 8 + 5) / 10, 0), 23)
        let greyLevel = UInt8(8 + greyStep * 10)
        let grey = RGB(greyLevel, greyLevel, greyLevel)
        return distanceSquared(to: grey) < distanceSquared(to: cube) ? 232 + greyStep : 16 + 36 * r + 6 * g + b
    }

    /// The 8 basic ANSI colours in index order (black, red, green, yellow, blue, magenta, cyan, white).
    static let ansi8: [RGB] = [
        RGB(0, 0, 0), RGB(205, 0, 0), RGB(0, 205, 0), RGB(205, 205, 0),
        RGB(0, 0, 238), RGB(205, 0, 205), RGB(0, 205, 205), RGB(229, 229, 229),
    ]

    /// The nearest of the 8 basic ANSI colours (0...7), judged by hue for saturated colours.
    public var ansi8Index: Int {
        let maxC = max(red, green, blue)
        let minC = min(red, green, blue)
        if Int(maxC) - Int(minC) < 40 { return Int(maxC) >= 128 ? 7 : 0 }  // greys: black or white
        let threshold = (Int(maxC) + Int(minC)) / 2
        let bits = (Int(red) > threshold ? 1 : 0) | (Int(green) > threshold ? 2 : 0) | (Int(blue) > threshold ? 4 : 0)
        return bits == 0 ? 0 : bits
    }

    func distanceSquared(to other: RGB) -> Int {
        let dr = Int(red) - Int(other.red)
        let dg = Int(green) - Int(other.green)
        let db = Int(blue) - Int(other.blue)
        return dr * dr + dg * dg + db * db
    }
}

/// How many colours the terminal can show.
public enum ColorMode: String, Equatable, Sendable, CaseIterable {
    /// No colour at all (`NO_COLOR`, `TERM=dumb`, or a terminal without colours).
    case none
    /// The 8 basic ANSI colours.
    case ansi8
    /// The xterm 256-colour palette.
    case xterm256
    /// 24-bit colour.
    case truecolor

    /// Picks the mode from the environment and the number of colours the terminal reports.
    /// - Parameters:
    ///   - environment: `NO_COLOR` (non-empty) forces `.none`; `COLORTERM=truecolor|24bit` allows `.truecolor`.
    ///   - terminalColors: `COLORS` from terminfo (8, 256, 16777216...).
    public static func detect(environment: [String: String], terminalColors: Int) -> ColorMode {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .none }
        if environment["TERM"] == "dumb" { return .none }
        let colorTerm = environment["COLORTERM"]?.lowercased() ?? ""
        if colorTerm == "truecolor" || colorTerm == "24bit" || terminalColors >= 1 << 24 { return .truecolor }
        if terminalColors >= 256 { return .xterm256 }
        if terminalColors >= 8 { return .ansi8 }
        return .none
    }
}

extension String {
    func leftPadded(to length: Int, with pad: Character = " ") -> String {
        count >= length ? self : String(repeating: pad, count: length - count) + self
    }
}
