// The storage formats a weight tensor can have, in one table: block size, bytes per block, bits per
// weight, GGUF's type id, and the reference quantize/dequantize of a row. A new format is one case
// here (every `switch` below is exhaustive, so the compiler lists what it needs) plus its kernels.
// Block formats follow GGUF's layouts (ggml-common.h) and its reference rounding.

/// How the values of one weight tensor are stored.
public enum WeightFormat: String, CaseIterable, Equatable, Hashable, Sendable, Codable {
    /// IEEE single precision.
    case f32
    /// IEEE half precision.
    case f16
    /// bfloat16 (fp32's exponent, 7-bit mantissa).
    case bf16
    /// GGUF Q8_0: blocks of 32 weights, an fp16 scale d and 32 int8 q; w = d·q, d = max|w| / 127.
    case q8_0

    /// Per-format constants.
    public struct Traits: Equatable, Sendable {
        /// Weights per block (1 for scalar formats).
        public let blockSize: Int
        /// Bytes one block occupies.
        public let bytesPerBlock: Int
        /// GGUF's `ggml_type` id.
        public let ggufType: UInt32
    }

    public var traits: Traits {
        switch self {
        case .f32: return Traits(blockSize: 1, bytesPerBlock: 4, ggufType: 0)
        case .f16: return Traits(blockSize: 1, bytesPerBlock: 2, ggufType: 1)
        case .bf16: return Traits(blockSize: 1, bytesPerBlock: 2, ggufType: 30)
        case .q8_0: return Traits(blockSize: 32, bytesPerBlock: 34, ggufType: 8)
        }
    }

    /// Storage bits per weight (scales included).
    public var bitsPerWeight: Double { Double(traits.bytesPerBlock * 8) / Double(traits.blockSize) }

    /// Whether weights are grouped in blocks sharing a scale.
    public var isBlockQuantized: Bool { traits.blockSize > 1 }

    /// The 16-bit activation precision this format is, for the mixed-precision training copy; nil otherwise.
    public var halfPrecision: Precision? {
        switch self {
        case .f16: return .fp16
        case .bf16: return .bf16
        case .f32, .q8_0: return nil
        }
    }

    /// The weight format of a 16-bit training copy.
    public init(_ precision: Precision) {
        switch precision {
        case .fp32: self = .f32
        case .bf16: self = .bf16
        case .fp16: self = .f16
        }
    }

    /// Bytes of a row of `count` weights; nil when `count` is not a whole number of blocks.
    public func rowBytes(_ count: Int) -> Int? {
        let t = traits
        guard count % t.blockSize == 0 else { return nil }
        return count / t.blockSize * t.bytesPerBlock
    }

    /// Reference quantization of `count` floats (a whole number of blocks) into `row`.
    public func quantizeRow(_ x: UnsafePointer<Float>, into row: UnsafeMutableRawPointer, count: Int) {
        switch self {
        case .f32: row.copyMemory(from: x, byteCount: count * 4)
        case .f16: HalfConversion.round(x, to: row.assumingMemoryBound(to: UInt16.self), count: count, format: .fp16)
        case .bf16: HalfConversion.round(x, to: row.assumingMemoryBound(to: UInt16.self), count: count, format: .bf16)
        case .q8_0: BlockQ8_0.quantize(x, into: row, count: count)
        }
    }

    /// Reference dequantization of a row of `count` weights into floats.
    public func dequantizeRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .f32: UnsafeMutableRawPointer(y).copyMemory(from: row, byteCount: count * 4)
        case .f16: HalfConversion.widen(row.assumingMemoryBound(to: UInt16.self), to: y, count: count, format: .fp16)
        case .bf16: HalfConversion.widen(row.assumingMemoryBound(to: UInt16.self), to: y, count: count, format: .bf16)
        case .q8_0: BlockQ8_0.dequantize(row, into: y, count: count)
        }
    }
}

/// GGUF's Q8_0 block: `{ fp16 d; int8 q[32] }`, 34 bytes, no padding.
public enum BlockQ8_0 {
    public static let blockSize = 32
    public static let bytes = 34

    /// ggml's `quantize_row_q8_0_ref`: d = max|x| / 127, q = round(x / d) (halves away from zero).
    public static func quantize(_ x: UnsafePointer<Float>, into row: UnsafeMutableRawPointer, count: Int) {
        precondition(count % blockSize == 0, "Q8_0 rows hold whole blocks of 32")
        for block in 0..<(count / blockSize) {
            let values = x + block * blockSize
            let out = row + block * bytes
            var amax: Float = 0
            for i in 0..<blockSize { amax = max(amax, abs(values[i])) }
            let d = amax / 127
            let inverse: Float = d != 0 ? 1 / d : 0
            out.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
            let q = (out + 2).assumingMemoryBound(to: Int8.self)
            for i in 0..<blockSize { q[i] = Int8((values[i] * inverse).rounded(.toNearestOrAwayFromZero)) }
        }
    }

    /// w = d·q.
    public static func dequantize(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % blockSize == 0, "Q8_0 rows hold whole blocks of 32")
        for block in 0..<(count / blockSize) {
            let from = row + block * bytes
            let d = Float(Float16(bitPattern: from.loadUnaligned(as: UInt16.self)))
            let q = (from + 2).assumingMemoryBound(to: Int8.self)
            let out = y + block * blockSize
            for i in 0..<blockSize { out[i] = d * Float(q[i]) }
        }
    }
}
