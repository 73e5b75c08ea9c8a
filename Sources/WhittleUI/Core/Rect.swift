// Layout arithmetic on integer rectangles: insets, splitting into rows and columns by fixed sizes,
// fractions or "the rest", centring. Views compute their panes here so update (mouse hits) and
// render agree on where everything is.

/// How much space one part of a split takes.
public enum LayoutSize: Equatable, Sendable {
    /// Exactly this many cells (clamped to what is available).
    case fixed(Int)
    /// This fraction (0...1) of the total length.
    case fraction(Double)
    /// An equal share of whatever the fixed and fractional parts leave.
    case fill
}

/// An integer rectangle on the screen; `x`, `y` is the top-left cell.
public struct Rect: Equatable, Hashable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(width, 0)
        self.height = max(height, 0)
    }

    /// One past the rightmost column.
    public var maxX: Int { x + width }
    /// One past the bottom row.
    public var maxY: Int { y + height }
    /// Whether the rectangle has no cells.
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    /// Whether the cell (px, py) lies inside.
    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }

    /// The rectangle shrunk by the given margins (never negative).
    public func inset(top: Int = 0, left: Int = 0, bottom: Int = 0, right: Int = 0) -> Rect {
        Rect(x: x + left, y: y + top, width: width - left - right, height: height - top - bottom)
    }

    /// The rectangle shrunk by `amount` on every side (the inside of a box when `amount` is 1).
    public func inset(by amount: Int) -> Rect { inset(top: amount, left: amount, bottom: amount, right: amount) }

    /// The overlap of two rectangles (empty if they do not overlap).
    public func intersection(_ other: Rect) -> Rect {
        let left = max(x, other.x)
        let top = max(y, other.y)
        let right = min(maxX, other.maxX)
        let bottom = min(maxY, other.maxY)
        return Rect(x: left, y: top, width: right - left, height: bottom - top)
    }

    /// A `width` x `height` rectangle centred in this one (clamped to fit).
    public func centered(width w: Int, height h: Int) -> Rect {
        let cw = min(w, width)
        let ch = min(h, height)
        return Rect(x: x + (width - cw) / 2, y: y + (height - ch) / 2, width: cw, height: ch)
    }

    /// Splits into stacked rows with the given sizes, top to bottom.
    public func splitRows(_ sizes: [LayoutSize]) -> [Rect] {
        Rect.lengths(sizes, total: height).reduce(into: (rects: [Rect](), offset: y)) { acc, length in
            acc.rects.append(Rect(x: x, y: acc.offset, width: width, height: length))
            acc.offset += length
        }.rects
    }

    /// Splits into side-by-side columns with the given sizes, left to right.
    public func splitColumns(_ sizes: [LayoutSize]) -> [Rect] {
        Rect.lengths(sizes, total: width).reduce(into: (rects: [Rect](), offset: x)) { acc, length in
            acc.rects.append(Rect(x: acc.offset, y: y, width: length, height: height))
            acc.offset += length
        }.rects
    }

    /// Resolves split sizes to lengths that sum to at most `total`; `.fill` parts share the rest,
    /// the first ones getting the remainder.
    static func lengths(_ sizes: [LayoutSize], total: Int) -> [Int] {
        var remaining = max(total, 0)
        var lengths = sizes.map { size -> Int in
            switch size {
            case .fixed(let n):
                let length = min(max(n, 0), remaining)
                remaining -= length
                return length
            case .fraction(let f):
                let length = min(Int((Double(total) * min(max(f, 0), 1)).rounded()), remaining)
                remaining -= length
                return length
            case .fill:
                return 0
            }
        }
        let fillIndices = sizes.indices.filter { sizes[$0] == .fill }
        guard !fillIndices.isEmpty else { return lengths }
        let share = remaining / fillIndices.count
        let extra = remaining % fillIndices.count
        for (k, index) in fillIndices.enumerated() { lengths[index] = share + (k < extra ? 1 : 0) }
        return lengths
    }
}
