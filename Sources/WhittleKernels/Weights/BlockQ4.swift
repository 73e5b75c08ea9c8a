// GGUF's 4-bit block types, Q4_0 and Q4_1: the layouts of ggml-common.h's `block_q4_0` and
// `block_q4_1` and the rounding of ggml-quants.c's `quantize_row_q4_0_ref` and
// `quantize_row_q4_1_ref`, bit for bit (checked against the `gguf` package's reference quantizers
// by the fixture tests). Codes are packed two to a byte (`GGMLBlock.packNibbles`).
// `WeightFormat.q4_0` and `.q4_1` dispatch here.

/// GGUF's Q4_0 block: `{ fp16 d; uint8 qs[16] }`, 18 bytes; w = d·(q − 8).
public enum BlockQ4_0 {
    public static let blockSize = GGMLBlock.size
    public static let bytes = 18

    /// ggml's `quantize_row_q4_0_ref`: with m the signed value of largest magnitude, d = m / −8
    /// and q = min(15, trunc(x · (1/d) + 8.5)); so m itself gets code 0 and no code is wasted on
    /// the side it is not on.
    public static func quantize(_ x: UnsafePointer<Float>, into row: UnsafeMutableRawPointer, count: Int) {
        precondition(count % blockSize == 0, "Q4_0 rows hold whole blocks of 32")
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize) { codes in
            let q = codes.baseAddress!
            for block in 0..<(count / blockSize) {
                let values = x + block * blockSize
                let out = row + block * bytes
                let d = GGMLBlock.signedMaximum(values) / -8
                let inverse: Float = d != 0 ? 1 / d : 0
                GGMLBlock.storeHalf(d, at: out)
                for i in 0..<blockSize { q[i] = UInt8(min(15, Int32(values[i] * inverse + 8.5))) }
                GGMLBlock.packNibbles(q, into: out + 2)
            }
        }
    }

    /// w = d·(q − 8).
    public static func dequantize(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % blockSize == 0, "Q4_0 rows hold whole blocks of 32")
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize) { codes in
            let q = codes.baseAddress!
            for block in 0..<(count / blockSize) {
                let from = row + block * bytes
                let d = GGMLBlock.loadHalf(from)
                GGMLBlock.unpackNibbles(from + 2, into: q)
                let out = y + block * blockSize
                for i in 0..<blockSize { out[i] = Float(Int32(q[i]) - 8) * d }
            }
        }
    }
}

/// GGUF's Q4_1 block: `{ fp16 d; fp16 m; uint8 qs[16] }`, 20 bytes; w = d·q + m.
public enum BlockQ4_1 {
    public static let blockSize = GGMLBlock.size
    public static let bytes = 20

    /// ggml's `quantize_row_q4_1_ref`: d = (max − min) / 15, m = min, q = min(15, trunc((x − min) · (1/d) + 0.5)).
    public static func quantize(_ x: UnsafePointer<Float>, into row: UnsafeMutableRawPointer, count: Int) {
        precondition(count % blockSize == 0, "Q4_1 rows hold whole blocks of 32")
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize) { codes in
            let q = codes.baseAddress!
            for block in 0..<(count / blockSize) {
                let values = x + block * blockSize
                let out = row + block * bytes
                let (low, high) = GGMLBlock.range(values)
                let d = (high - low) / 15
                let inverse: Float = d != 0 ? 1 / d : 0
                GGMLBlock.storeHalf(d, at: out)
                GGMLBlock.storeHalf(low, at: out + 2)
                for i in 0..<blockSize { q[i] = UInt8(min(15, Int32((values[i] - low) * inverse + 0.5))) }
                GGMLBlock.packNibbles(q, into: out + 4)
            }
        }
    }

    /// w = d·q + m.
    public static func dequantize(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % blockSize == 0, "Q4_1 rows hold whole blocks of 32")
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize) { codes in
            let q = codes.baseAddress!
            for block in 0..<(count / blockSize) {
                let from = row + block * bytes
                let d = GGMLBlock.loadHalf(from), m = GGMLBlock.loadHalf(from + 2)
                GGMLBlock.unpackNibbles(from + 4, into: q)
                let out = y + block * blockSize
                for i in 0..<blockSize { out[i] = Float(q[i]) * d + m }
            }
        }
    }
}
