// Reductions written with explicit SIMD accumulators. Swift keeps IEEE order for scalar `+=`
// loops, so a plain sum never vectorises; these split the work over 16 lanes (a fixed order,
// so results are still deterministic) and finish with one horizontal reduction.

public enum VectorMath {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// Σ of the 16 lanes by halving (shuffles); `SIMD16.sum()` spills to the stack and loops (~150 instructions).
    @inline(__always)
    static func horizontalSum(_ v: SIMD16<Float>) -> Float {
        let eight = v.lowHalf + v.highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// Σ p[i]
    @inline(__always)
    public static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= n { acc += load(p + i); i += 16 }
        var total = horizontalSum(acc)
        while i < n { total += p[i]; i += 1 }
        return total
    }

    /// Σ a[i]·b[i]
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= n { acc.addProduct(load(a + i), load(b + i)); i += 16 }
        var total = horizontalSum(acc)
        while i < n { total += a[i] * b[i]; i += 1 }
        return total
    }

    /// Σ (p[i] − center)²
    @inline(__always)
    public static func sumOfSquares(_ p: UnsafePointer<Float>, _ n: Int, center: Float = 0) -> Float {
        var acc = SIMD16<Float>()
        let c = SIMD16<Float>(repeating: center)
        var i = 0
        while i + 16 <= n {
            let d = load(p + i) - c
            acc.addProduct(d, d)
            i += 16
        }
        var total = horizontalSum(acc)
        while i < n { let d = p[i] - center; total += d * d; i += 1 }
        return total
    }

    /// Maps a Float to an Int32 with the same ordering (negative values have their magnitude bits
    /// flipped); the map is its own inverse. Integer max reductions vectorise, float ones do not.
    @inline(__always)
    static func orderedBits(_ x: Float) -> Int32 {
        let bits = Int32(bitPattern: x.bitPattern)
        return bits ^ ((bits >> 31) & 0x7FFF_FFFF)
    }

    /// max p[i] (n ≥ 1; NaN-free input).
    @inline(__always)
    public static func maximum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var best = Int32.min
        for i in 0..<n { best = max(best, orderedBits(p[i])) }
        let bits = best ^ ((best >> 31) & 0x7FFF_FFFF)
        return Float(bitPattern: UInt32(bitPattern: bits))
    }
}
