// Vectorisable exp and tanh for the hot loops (softmax, GELU). Plain polynomial code on
// Float bit patterns, so the compiler turns loops over them into SIMD; `Foundation.exp`
// and `Foundation.tanh` are the references the tests compare against.

/// Fast elementwise transcendental functions, accurate to a few ulp over the useful range.
public enum FastMath {
    /// e^x for x in [-87, 88]; inputs outside are clamped (results 0-ish or huge, never NaN for finite x).
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let clamped = min(max(x, -87.0), 88.0)
        // x = n·ln2 + r, |r| ≤ ln2/2. Adding 1.5·2²³ rounds x·log₂e to the nearest integer n and leaves
        // n in the low mantissa bits, so no float→int conversion is needed (those scalarise in loops).
        let shifter: Float = 12_582_912.0
        let t = clamped * 1.442_695_04 + shifter
        let n = t - shifter
        // ln2 split in two parts (Cody–Waite) for accuracy.
        var r = clamped - n * 0.693_145_75
        r = r - n * 1.428_606_8e-6
        // e^r by a degree-6 Taylor polynomial (Horner).
        var p: Float = 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        // Scale by 2^n through the exponent bits: n = bits(t) − bits(shifter).
        let exponent = (t.bitPattern &- shifter.bitPattern &+ 127) << 23
        return p * Float(bitPattern: exponent)
    }

    /// tanh(x) = 1 - 2 / (e^{2x} + 1), with the sign handled so large |x| saturates cleanly.
    @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        let e = exp(2 * x)
        return 1 - 2 / (e + 1)
    }
}
