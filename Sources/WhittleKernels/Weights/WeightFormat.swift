// The storage formats a weight tensor can have, in one table: block size, bytes per block, bytes a
// row carries besides its blocks, bits per weight, GGUF's type id, and the reference quantize/
// dequantize of a row. A new format is one case here (every `switch` below is exhaustive, so the
// compiler lists what it needs) plus its block code in a file of its own (`BlockQ8_0.swift`,
// `BlockQ4Q5.swift`, `RowInt8.swift`). GGUF's types follow its block layouts
// (ggml-common.h) and its reference rounding (ggml-quants.c) bit for bit.

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
    /// GGUF Q5_1: blocks of 32, fp16 scale d and minimum m, 5-bit q; w = d·q + m.
    case q5_1
    /// GGUF Q5_0: blocks of 32, an fp16 scale d, 5-bit q; w = d·(q − 16).
    case q5_0
    /// GGUF Q4_1: blocks of 32, fp16 scale d and minimum m, 4-bit q; w = d·q + m.
    case q4_1
    /// GGUF Q4_0: blocks of 32, an fp16 scale d, 4-bit q; w = d·(q − 8).
    case q4_0
    /// int8 per output channel (for W8A8 products): each output-major row is K int8 codes and one
    /// fp32 scale, max|w| / 127. Not a GGUF type: variants store it in safetensors (docs/DECISIONS.md).
    case int8

    /// Per-format constants.
    public struct Traits: Equatable, Sendable {
        /// Weights per block (1 for scalar formats).
        public let blockSize: Int
        /// Bytes one block occupies.
        public let bytesPerBlock: Int
        /// Bytes every row carries besides its blocks (int8's per-row scale; 0 for GGUF's types).
        public let bytesPerRow: Int
        /// GGUF's `ggml_type` id; nil for formats GGUF has no type for.
        public let ggufType: UInt32?

        init(blockSize: Int, bytesPerBlock: Int, bytesPerRow: Int = 0, ggufType: UInt32?) {
            self.blockSize = blockSize
            self.bytesPerBlock = bytesPerBlock
            self.bytesPerRow = bytesPerRow
            self.ggufType = ggufType
        }
    }

    public var traits: Traits {
        switch self {
        case .f32: return Traits(blockSize: 1, bytesPerBlock: 4, ggufType: 0)
        case .f16: return Traits(blockSize: 1, bytesPerBlock: 2, ggufType: 1)
        case .bf16: return Traits(blockSize: 1, bytesPerBlock: 2, ggufType: 30)
        case .q8_0: return Traits(blockSize: BlockQ8_0.blockSize, bytesPerBlock: BlockQ8_0.bytes, ggufType: 8)
        case .q5_1: return Traits(blockSize: NibbleBlockType.q5_1.blockSize, bytesPerBlock: NibbleBlockType.q5_1.bytes, ggufType: 7)
        case .q5_0: return Traits(blockSize: NibbleBlockType.q5_0.blockSize, bytesPerBlock: NibbleBlockType.q5_0.bytes, ggufType: 6)
        case .q4_1: return Traits(blockSize: NibbleBlockType.q4_1.blockSize, bytesPerBlock: NibbleBlockType.q4_1.bytes, ggufType: 3)
        case .q4_0: return Traits(blockSize: NibbleBlockType.q4_0.blockSize, bytesPerBlock: NibbleBlockType.q4_0.bytes, ggufType: 2)
        case .int8: return Traits(blockSize: 1, bytesPerBlock: 1, bytesPerRow: RowInt8.scaleBytes, ggufType: nil)
        }
    }

    /// The format GGUF calls `ggml_type` `id`, if Whittle has it.
    public init?(ggufType id: UInt32) {
        guard let format = Self.allCases.first(where: { $0.traits.ggufType == id }) else { return nil }
        self = format
    }

    /// Storage bits per weight of the blocks (scales inside blocks included, a per-row scale not:
    /// see `bitsPerWeight(rowLength:)`).
    public var bitsPerWeight: Double { Double(traits.bytesPerBlock * 8) / Double(traits.blockSize) }

    /// Storage bits per weight of a row of `rowLength` weights, everything included.
    public func bitsPerWeight(rowLength: Int) -> Double? { rowBytes(rowLength).map { Double($0 * 8) / Double(rowLength) } }

    /// Whether weights are integer codes sharing scales along a row (in blocks or per row): such
    /// matrices are stored output-major, so that a scale's weights feed one dot product.
    public var isQuantized: Bool { traits.blockSize > 1 || traits.bytesPerRow > 0 }

    /// The 16-bit activation precision this format is, for the mixed-precision training copy; nil otherwise.
    public var halfPrecision: Precision? {
        switch self {
        case .f16: return .fp16
        case .bf16: return .bf16
        case .f32, .q8_0, .q5_1, .q5_0, .q4_1, .q4_0, .int8: return nil
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
        return count / t.blockSize * t.bytesPerBlock + t.bytesPerRow
    }

    /// Reference quantization of a row of `count` floats (a whole number of blocks) into `row`
    /// (`rowBytes(count)` bytes).
    public func quantizeRow(_ x: UnsafePointer<Float>, into row: UnsafeMutableRawPointer, count: Int) {
        switch self {
        case .f32: row.copyMemory(from: x, byteCount: count * 4)
        case .f16: HalfConversion.round(x, to: row.assumingMemoryBound(to: UInt16.self), count: count, format: .fp16)
        case .bf16: HalfConversion.round(x, to: row.assumingMemoryBound(to: UInt16.self), count: count, format: .bf16)
        case .q8_0: BlockQ8_0.quantize(x, into: row, count: count)
        case .q5_1: NibbleBlockType.q5_1.quantize(x, into: row, count: count)
        case .q5_0: NibbleBlockType.q5_0.quantize(x, into: row, count: count)
        case .q4_1: NibbleBlockType.q4_1.quantize(x, into: row, count: count)
        case .q4_0: NibbleBlockType.q4_0.quantize(x, into: row, count: count)
        case .int8: RowInt8.quantize(x, into: row, count: count)
        }
    }

    /// Reference dequantization of a row of `count` weights into floats.
    public func dequantizeRow(_ row: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .f32: UnsafeMutableRawPointer(y).copyMemory(from: row, byteCount: count * 4)
        case .f16: HalfConversion.widen(row.assumingMemoryBound(to: UInt16.self), to: y, count: count, format: .fp16)
        case .bf16: HalfConversion.widen(row.assumingMemoryBound(to: UInt16.self), to: y, count: count, format: .bf16)
        case .q8_0: BlockQ8_0.dequantize(row, into: y, count: count)
        case .q5_1: NibbleBlockType.q5_1.dequantize(row, into: y, count: count)
        case .q5_0: NibbleBlockType.q5_0.dequantize(row, into: y, count: count)
        case .q4_1: NibbleBlockType.q4_1.dequantize(row, into: y, count: count)
        case .q4_0: NibbleBlockType.q4_0.dequantize(row, into: y, count: count)
        case .int8: RowInt8.dequantize(row, into: y, count: count)
        }
    }
}
