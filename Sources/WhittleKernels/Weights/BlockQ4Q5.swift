// GGUF's 4- and 5-bit block types, Q4_0, Q4_1, Q5_0 and Q5_1: the layouts of ggml-common.h's
// `block_q4_0`, `block_q4_1`, `block_q5_0`, `block_q5_1` and the rounding of ggml-quants.c's
// `quantize_row_q{4,5}_{0,1}_ref`, bit for bit (checked against the `gguf` package's reference
// quantizers by the fixture tests). The four differ in two ways only, so one layout describes them:
// the code width (a 5-bit code keeps its low 4 bits in the nibbles, its 5th bit in the block's 32-bit
// `qh`), and whether the block has a minimum (`_1`: w = d·q + m) or is symmetric (`_0`:
// w = d·(q − 2^(bits−1))). `WeightFormat.q4_0`, `.q4_1`, `.q5_0` and `.q5_1` dispatch here.

/// One of GGUF's 32-weight nibble block types: `{ fp16 d; [fp16 m;] [uint8 qh[4];] uint8 qs[16] }`.
public struct NibbleBlockType: Sendable {
    public let name: String
    /// Bits per code: 4 or 5.
    public let codeBits: Int
    /// `_1` types store a minimum m (w = d·q + m); `_0` types are symmetric around 2^(codeBits−1).
    public let hasMinimum: Bool

    public static let q4_0 = NibbleBlockType(name: "Q4_0", codeBits: 4, hasMinimum: false)   // 18 bytes
    public static let q4_1 = NibbleBlockType(name: "Q4_1", codeBits: 4, hasMinimum: true)    // 20 bytes
    public static let q5_0 = NibbleBlockType(name: "Q5_0", codeBits: 5, hasMinimum: false)   // 22 bytes
    public static let q5_1 = NibbleBlockType(name: "Q5_1", codeBits: 5, hasMinimum: true)    // 24 bytes

    public var blockSize: Int { GGMLBlock.size }
    /// Byte offset of `qh` (5-bit types), after d and m.
    var highBitsOffset: Int { hasMinimum ? 4 : 2 }
    /// Byte offset of the nibbles.
    var nibblesOffset: Int { highBitsOffset + (codeBits == 5 ? 4 : 0) }
    public var bytes: Int { nibblesOffset + GGMLBlock.size / 2 }
    /// The largest code: 15 or 31.
    var largestCode: Int32 { (1 << Int32(codeBits)) - 1 }
    /// The symmetric types' zero code: 8 or 16.
    var zeroCode: Int32 { 1 << Int32(codeBits - 1) }

    /// ggml's reference rounding. Symmetric (`_0`): with m the signed value of largest magnitude,
    /// d = m / −zero and q = min(largest, trunc(x · (1/d) + zero + 0.5)), so m itself gets code 0 and no
    /// code is wasted on the side it is not on. With a minimum (`_1`): d = (max − min) / largest,
    /// m = min, q = min(largest, trunc((x − min) · (1/d) + 0.5)) (ggml's Q5_1 omits the clamp, which
    /// only matters for non-finite blocks; clamped as the `gguf` package does).
    public func quantize(_ x: UnsafePointer<Float>, into row: UnsafeMutableRawPointer, count: Int) {
        precondition(count % blockSize == 0, "\(name) rows hold whole blocks of 32")
        let largest = largestCode, zero = zeroCode, bias = Float(zeroCode) + 0.5
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: GGMLBlock.size) { codes in
            let q = codes.baseAddress!
            for block in 0..<(count / GGMLBlock.size) {
                let values = x + block * GGMLBlock.size
                let out = row + block * bytes
                if hasMinimum {
                    let (low, high) = GGMLBlock.range(values)
                    let d = (high - low) / Float(largest)
                    let inverse: Float = d != 0 ? 1 / d : 0
                    GGMLBlock.storeHalf(d, at: out)
                    GGMLBlock.storeHalf(low, at: out + 2)
                    for i in 0..<GGMLBlock.size { q[i] = UInt8(min(largest, Int32((values[i] - low) * inverse + 0.5))) }
                } else {
                    let d = GGMLBlock.signedMaximum(values) / -Float(zero)
                    let inverse: Float = d != 0 ? 1 / d : 0
                    GGMLBlock.storeHalf(d, at: out)
                    for i in 0..<GGMLBlock.size { q[i] = UInt8(min(largest, Int32(values[i] * inverse + bias))) }
                }
                if codeBits == 5 { GGMLBlock.storeHighBits(q, at: out + highBitsOffset) }
                GGMLBlock.packNibbles(q, into: out + nibblesOffset)
            }
        }
    }

    /// w = d·(q − zero) for `_0` types, d·q + m for `_1` types.
    public func dequantize(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % blockSize == 0, "\(name) rows hold whole blocks of 32")
        let zero = zeroCode
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: GGMLBlock.size) { codes in
            let q = codes.baseAddress!
            for block in 0..<(count / GGMLBlock.size) {
                let from = row + block * bytes
                let d = GGMLBlock.loadHalf(from)
                GGMLBlock.unpackNibbles(from + nibblesOffset, into: q)
                if codeBits == 5 { GGMLBlock.addHighBits(from + highBitsOffset, to: q) }
                let out = y + block * GGMLBlock.size
                if hasMinimum {
                    let m = GGMLBlock.loadHalf(from + 2)
                    for i in 0..<GGMLBlock.size { out[i] = Float(q[i]) * d + m }
                } else {
                    for i in 0..<GGMLBlock.size { out[i] = Float(Int32(q[i]) - zero) * d }
                }
            }
        }
    }
}
