// GGUF's Q8_0 block type: the layout of ggml-common.h's `block_q8_0` and the rounding of
// ggml-quants.c's `quantize_row_q8_0_ref`, bit for bit (checked against the `gguf` package's
// reference quantizer by the fixture tests). `WeightFormat.q8_0` dispatches here.

/// GGUF's Q8_0 block: `{ fp16 d; int8 q[32] }`, 34 bytes, no padding.
public enum BlockQ8_0 {
    public static let blockSize = GGMLBlock.size
    public static let bytes = 34

    /// ggml's `quantize_row_q8_0_ref`: d = max|x| / 127, q = round(x · (1/d)) (halves away from zero).
    public static func quantize(_ x: UnsafePointer<Float>, into row: UnsafeMutableRawPointer, count: Int) {
        precondition(count % blockSize == 0, "Q8_0 rows hold whole blocks of 32")
        for block in 0..<(count / blockSize) {
            let values = x + block * blockSize
            let out = row + block * bytes
            var amax: Float = 0
            for i in 0..<blockSize { amax = max(amax, abs(values[i])) }
            let d = amax / 127
            let inverse: Float = d != 0 ? 1 / d : 0
            GGMLBlock.storeHalf(d, at: out)
            let q = (out + 2).assumingMemoryBound(to: Int8.self)
            for i in 0..<blockSize { q[i] = Int8((values[i] * inverse).rounded(.toNearestOrAwayFromZero)) }
        }
    }

    /// w = d·q.
    public static func dequantize(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % blockSize == 0, "Q8_0 rows hold whole blocks of 32")
        for block in 0..<(count / blockSize) {
            let from = row + block * bytes
            let d = GGMLBlock.loadHalf(from)
            let q = (from + 2).assumingMemoryBound(to: Int8.self)
            let out = y + block * blockSize
            for i in 0..<blockSize { out[i] = Float(q[i]) * d }
        }
    }
}
