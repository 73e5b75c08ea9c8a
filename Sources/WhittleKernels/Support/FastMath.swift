// Vectorisable exp and tanh for the hot loops (softmax, GELU). Plain polynomial code on
// Float bit patterns, so the compiler turns loops over them into SIMD; `Foundation.exp`
// and `Foundation.tanh` are the references the tests compare against.

/// Fast elementwise transcendental functions, accurate to a few ulp over the useful range.
public enum FastMath {
    /// e^x for x in [-87, 88]; inputs outside are clamped (results 0-ish or huge, never NaN for finite x).
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let clamped = min(max(x, -87.0), 88.0)
        // x = n·ln2 + r, |r| ≤ ln2/2; ln2 split in two parts (Cody–Waite) for accuracy.
        let n = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
        var r = clamped - n * 0.693_145_75
        r = r - n * 1.428_606_8e-6
        // e^r by a degree-6 Taylor/minimax-style polynomial (Horner).
        var p: Float = 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        // Scale by 2^n through the exponent bits.
        let bits = UInt32(bitPattern: Int32(n) &+ 127) << 23
        return p * Float(bitPattern: bits)
    }

    /// tanh(x) = 1 - 2 / (e^{2x} + 1), with the sign handled so large |x| saturates cleanly.
    @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        let e = exp(2 * x)
        return 1 - 2 / (e + 1)
    }
}
