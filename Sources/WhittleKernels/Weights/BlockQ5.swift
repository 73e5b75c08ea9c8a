// GGUF's 5-bit block types, Q5_0 and Q5_1: the layouts of ggml-common.h's `block_q5_0` and
// `block_q5_1` and the rounding of ggml-quants.c's `quantize_row_q5_0_ref` and
// `quantize_row_q5_1_ref`, bit for bit (checked against the `gguf` package's reference quantizers
// by the fixture tests). A code's low 4 bits are packed as Q4's nibbles, its 5th bit in the
// block's 32-bit `qh` (`GGMLBlock.storeHighBits`). `WeightFormat.q5_0` and `.q5_1` dispatch here.

/// GGUF's Q5_0 block: `{ fp16 d; uint8 qh[4]; uint8 qs[16] }`, 22 bytes; w = d·(q − 16).
public enum BlockQ5_0 {
    public static let blockSize = GGMLBlock.size
    public static let bytes = 22

    /// ggml's `quantize_row_q5_0_ref`: with m the signed value of largest magnitude, d = m / −16
    /// and q = min(31, trunc(x · (1/d) + 16.5)).
    public static func quantize(_ x: UnsafePointer<Float>, into row: UnsafeMutableRawPointer, count: Int) {
        precondition(count % blockSize == 0, "Q5_0 rows hold whole blocks of 32")
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize) { codes in
            let q = codes.baseAddress!
            for block in 0..<(count / blockSize) {
                let values = x + block * blockSize
                let out = row + block * bytes
                let d = GGMLBlock.signedMaximum(values) / -16
                let inverse: Float = d != 0 ? 1 / d : 0
                GGMLBlock.storeHalf(d, at: out)
                for i in 0..<blockSize { q[i] = UInt8(min(31, Int32(values[i] * inverse + 16.5))) }
                GGMLBlock.storeHighBits(q, at: out + 2)
                GGMLBlock.packNibbles(q, into: out + 6)
            }
        }
    }

    /// w = d·(q − 16).
    public static func dequantize(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % blockSize == 0, "Q5_0 rows hold whole blocks of 32")
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize) { codes in
            let q = codes.baseAddress!
            for block in 0..<(count / blockSize) {
                let from = row + block * bytes
                let d = GGMLBlock.loadHalf(from)
                GGMLBlock.unpackNibbles(from + 6, into: q)
                GGMLBlock.addHighBits(from + 2, to: q)
                let out = y + block * blockSize
                for i in 0..<blockSize { out[i] = Float(Int32(q[i]) - 16) * d }
            }
        }
    }
}

/// GGUF's Q5_1 block: `{ fp16 d; fp16 m; uint8 qh[4]; uint8 qs[16] }`, 24 bytes; w = d·q + m.
public enum BlockQ5_1 {
    public static let blockSize = GGMLBlock.size
    public static let bytes = 24

    /// ggml's `quantize_row_q5_1_ref`: d = (max − min) / 31, m = min, q = trunc((x − min) · (1/d) + 0.5)
    /// (at most 31 for finite blocks; clamped there, as the `gguf` package does).
    public static func quantize(_ x: UnsafePointer<Float>, into row: UnsafeMutableRawPointer, count: Int) {
        precondition(count % blockSize == 0, "Q5_1 rows hold whole blocks of 32")
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize) { codes in
            let q = codes.baseAddress!
            for block in 0..<(count / blockSize) {
                let values = x + block * blockSize
                let out = row + block * bytes
                let (low, high) = GGMLBlock.range(values)
                let d = (high - low) / 31
                let inverse: Float = d != 0 ? 1 / d : 0
                GGMLBlock.storeHalf(d, at: out)
                GGMLBlock.storeHalf(low, at: out + 2)
                for i in 0..<blockSize { q[i] = UInt8(min(31, Int32((values[i] - low) * inverse + 0.5))) }
                GGMLBlock.storeHighBits(q, at: out + 4)
                GGMLBlock.packNibbles(q, into: out + 8)
            }
        }
    }

    /// w = d·q + m.
    public static func dequantize(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % blockSize == 0, "Q5_1 rows hold whole blocks of 32")
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize) { codes in
            let q = codes.baseAddress!
            for block in 0..<(count / blockSize) {
                let from = row + block * bytes
                let d = GGMLBlock.loadHalf(from), m = GGMLBlock.loadHalf(from + 2)
                GGMLBlock.unpackNibbles(from + 8, into: q)
                GGMLBlock.addHighBits(from + 4, to: q)
                let out = y + block * blockSize
                for i in 0..<blockSize { out[i] = Float(q[i]) * d + m }
            }
        }
    }
}
