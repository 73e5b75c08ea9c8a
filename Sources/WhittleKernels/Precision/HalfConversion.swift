// Rounding fp32 to 16 bits and widening back. Both formats round to nearest, ties to even, as
// PyTorch's .to(bfloat16) / .to(float16) do. `HalfConversionReference` is the scalar definition,
// written from the formats' bit layouts, that the tests compare the bulk loops against.

import CKernels

/// Bulk conversions between fp32 and a 16-bit `Precision` (AVX-512 loops in CKernels, with a
/// portable fallback there).
public enum HalfConversion {
    /// y[i] = round(x[i]) in `format` (bf16 or fp16). Returns how many nonzero inputs became ±0:
    /// values the format flushed (for gradients, the signal fp16 loss scaling exists to prevent).
    @discardableResult @inline(__always)
    public static func round(_ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<UInt16>, count: Int,
                             format: Precision) -> Int {
        switch format {
        case .bf16: return ck_f32_to_bf16(x, y, count)
        case .fp16: return ck_f32_to_f16(x, y, count)
        case .fp32: preconditionFailure("fp32 has no 16-bit form")
        }
    }

    /// y[i] = x[i] widened to fp32 (exact).
    @inline(__always)
    public static func widen(_ x: UnsafePointer<UInt16>, to y: UnsafeMutablePointer<Float>, count: Int, format: Precision) {
        switch format {
        case .bf16: ck_bf16_to_f32(x, y, count)
        case .fp16: ck_f16_to_f32(x, y, count)
        case .fp32: preconditionFailure("fp32 has no 16-bit form")
        }
    }

    /// One value widened to fp32.
    @inline(__always)
    public static func widen(_ x: UInt16, format: Precision) -> Float {
        format == .bf16 ? Float(bitPattern: UInt32(x) << 16) : Float(Float16(bitPattern: x))
    }
}

/// Scalar definitions of the two roundings, written from the formats' bit layouts (tests only).
public enum HalfConversionReference {
    /// Nearest bf16, ties to even; NaN stays NaN (quietened), ±inf stays ±inf.
    public static func bf16(_ x: Float) -> UInt16 {
        if x.isNaN { return UInt16(x.bitPattern >> 16) | 0x0040 }
        let bits = x.bitPattern
        let upper = bits >> 16, lower = bits & 0xFFFF
        let roundUp = lower > 0x8000 || (lower == 0x8000 && upper & 1 == 1)
        return UInt16(upper + (roundUp ? 1 : 0))
    }

    /// Nearest fp16, ties to even, by exact arithmetic on the value (Double holds every step exactly).
    public static func fp16(_ x: Float) -> UInt16 {
        if x.isNaN { return 0x7E00 }
        let sign: UInt16 = x.sign == .minus ? 0x8000 : 0
        let magnitude = Double(abs(x))
        if magnitude >= 65520 { return sign | 0x7C00 }          // rounds to infinity (max is 65504)
        // Value in units of the smallest subnormal, 2^-24; normal numbers have coarser units.
        var exponent = -14                                       // smallest normal exponent
        while magnitude >= Double(sign: .plus, exponent: exponent + 1, significand: 1) { exponent += 1 }
        let unit = Double(sign: .plus, exponent: exponent - 10, significand: 1)
        var units = (magnitude / unit).rounded(.toNearestOrEven)
        if units >= 2048 { units /= 2; exponent += 1 }           // rounding carried into the next binade
        if magnitude < Double(sign: .plus, exponent: -14, significand: 1) {
            return sign | UInt16(units)                          // subnormal (or zero): units of 2^-24
        }
        return sign | UInt16(exponent + 15) << 10 | (UInt16(units) - 1024)
    }
}
