// int8 weights with one scale per output channel, for a W8A8 path (int8 weights times int8
// activations quantized per token on the fly). GGUF has no such type: variants keep these tensors
// in safetensors (docs/DECISIONS.md). Rounding follows Q8_0's, with the whole row as the block and
// an fp32 scale. `WeightFormat.int8` dispatches here.

/// An int8 row of an output-major matrix: its K codes `q[0..<K]` (one byte each, the reduction axis
/// contiguous, starting at the row's first byte), then the row's fp32 scale s, little-endian, at
/// byte K; K + 4 bytes in all. w[k] = s·q[k], s = max_k |w[k]| / 127, q[k] = round(w[k] · (1/s))
/// with halves away from zero, so q ∈ [−127, 127]. A row of zeros has s = 0 and codes 0.
public enum RowInt8 {
    /// Bytes of the per-row scale.
    public static let scaleBytes = 4

    /// Quantizes one row of `count` weights into `count + 4` bytes.
    public static func quantize(_ x: UnsafePointer<Float>, into row: UnsafeMutableRawPointer, count: Int) {
        var amax: Float = 0
        for k in 0..<count { amax = max(amax, abs(x[k])) }
        let scale = amax / 127
        let inverse: Float = scale != 0 ? 1 / scale : 0
        let q = row.assumingMemoryBound(to: Int8.self)
        for k in 0..<count { q[k] = Int8((x[k] * inverse).rounded(.toNearestOrAwayFromZero)) }
        (row + count).storeBytes(of: scale.bitPattern.littleEndian, as: UInt32.self)
    }

    /// The row's scale.
    @inline(__always)
    public static func scale(_ row: UnsafeRawPointer, count: Int) -> Float {
        Float(bitPattern: UInt32(littleEndian: (row + count).loadUnaligned(as: UInt32.self)))
    }

    /// w[k] = s·q[k].
    public static func dequantize(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        let s = scale(row, count: count)
        let q = row.assumingMemoryBound(to: Int8.self)
        for k in 0..<count { y[k] = Float(q[k]) * s }
    }
}
