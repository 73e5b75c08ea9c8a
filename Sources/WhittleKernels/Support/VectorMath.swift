// Reductions written with explicit SIMD accumulators. Swift keeps IEEE order for scalar `+=`
// loops, so a plain sum never vectorises; these split the work over 16 lanes (a fixed order,
// so results are still deterministic) and finish with one horizontal reduction.

public enum VectorMath {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// Σ p[i]
    @inline(__always)
    public static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= n { acc += load(p + i); i += 16 }
        var total = acc.sum()
        while i < n { total += p[i]; i += 1 }
        return total
    }

    /// Σ a[i]·b[i]
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= n { acc.addProduct(load(a + i), load(b + i)); i += 16 }
        var total = acc.sum()
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
        var total = acc.sum()
        while i < n { let d = p[i] - center; total += d * d; i += 1 }
        return total
    }

    /// max p[i] (n ≥ 1)
    @inline(__always)
    public static func maximum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var i = 0
        var best = -Float.greatestFiniteMagnitude
        if n >= 16 {
            var acc = load(p)
            i = 16
            while i + 16 <= n { acc = pointwiseMax(acc, load(p + i)); i += 16 }
            best = acc.max()
        }
        while i < n { best = max(best, p[i]); i += 1 }
        return best
    }
}
