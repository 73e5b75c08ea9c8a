// What GGUF's 32-weight block types share (ggml-common.h, ggml-quants.c): the fp16 scale and
// minimum fields, how a block's scale is chosen (the signed value of largest magnitude for the
// symmetric `_0` types, the minimum and maximum for the `_1` types), and the packing of 4-bit
// codes into nibbles and of 5th bits into a 32-bit `qh`. The block files use these; nothing here
// is a format of its own.

/// Helpers of the 32-weight GGUF block types.
enum GGMLBlock {
    /// Weights per block of Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0.
    static let size = 32

    /// Stores `value` rounded to fp16 (nearest, ties to even: ggml's `GGML_FP32_TO_FP16`), little-endian.
    @inline(__always)
    static func storeHalf(_ value: Float, at pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: Float16(value).bitPattern.littleEndian, as: UInt16.self)
    }

    /// The fp16 field at `pointer`, widened (exact).
    @inline(__always)
    static func loadHalf(_ pointer: UnsafeRawPointer) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: pointer.loadUnaligned(as: UInt16.self))))
    }

    /// The value of largest magnitude, the first one on ties, starting from +0 (so a block of zeros
    /// of either sign gives +0), as `quantize_row_q4_0_ref` and `quantize_row_q5_0_ref` pick it.
    @inline(__always)
    static func signedMaximum(_ x: UnsafePointer<Float>) -> Float {
        var magnitude: Float = 0, value: Float = 0
        for i in 0..<size where magnitude < abs(x[i]) {
            magnitude = abs(x[i])
            value = x[i]
        }
        return value
    }

    /// The block's minimum and maximum, as `quantize_row_q4_1_ref` and `quantize_row_q5_1_ref`
    /// find them (strict comparisons from ±FLT_MAX: the first of equal values wins).
    @inline(__always)
    static func range(_ x: UnsafePointer<Float>) -> (min: Float, max: Float) {
        var low = Float.greatestFiniteMagnitude, high = -Float.greatestFiniteMagnitude
        for i in 0..<size {
            if x[i] < low { low = x[i] }
            if x[i] > high { high = x[i] }
        }
        return (low, high)
    }

    /// ggml's `qs`: byte j holds code j's low 4 bits in its low nibble and code j + 16's in its high nibble.
    @inline(__always)
    static func packNibbles(_ q: UnsafePointer<UInt8>, into qs: UnsafeMutableRawPointer) {
        for j in 0..<(size / 2) {
            qs.storeBytes(of: (q[j] & 0x0F) | (q[j + size / 2] & 0x0F) << 4, toByteOffset: j, as: UInt8.self)
        }
    }

    /// Codes from `qs` (the inverse of `packNibbles`), low 4 bits only.
    @inline(__always)
    static func unpackNibbles(_ qs: UnsafeRawPointer, into q: UnsafeMutablePointer<UInt8>) {
        for j in 0..<(size / 2) {
            let byte = qs.load(fromByteOffset: j, as: UInt8.self)
            q[j] = byte & 0x0F
            q[j + size / 2] = byte >> 4
        }
    }

    /// ggml's `qh` of 5-bit codes: bit j is code j's 5th bit (bit 4), stored little-endian.
    @inline(__always)
    static func storeHighBits(_ q: UnsafePointer<UInt8>, at qh: UnsafeMutableRawPointer) {
        var bits: UInt32 = 0
        for j in 0..<size { bits |= UInt32(q[j] >> 4 & 1) << UInt32(j) }
        qh.storeBytes(of: bits.littleEndian, as: UInt32.self)
    }

    /// Adds the 5th bits stored by `storeHighBits` to codes holding their low 4 bits.
    @inline(__always)
    static func addHighBits(_ qh: UnsafeRawPointer, to q: UnsafeMutablePointer<UInt8>) {
        let bits = UInt32(littleEndian: qh.loadUnaligned(as: UInt32.self))
        for j in 0..<size { q[j] |= UInt8(truncatingIfNeeded: bits >> UInt32(j) & 1) << 4 }
    }
}
