// The grid of one GGUF block (Q8_0, Q5_1, Q5_0, Q4_1, Q4_0): its scale (and minimum for the `_1`
// types), the code a value rounds to and the value a code dequantizes to, and the block's bytes.
// Rounding algorithms other than round-to-nearest (importance-weighted search, GPTQ) choose a grid
// and codes per block through this one type, so whatever they choose is an ordinary GGUF block.
// `reference(_:_:)` is the type's reference rule and `code` its reference rounding, operation for
// operation (ggml-quants.c's `quantize_row_*_ref`: fp32 scale and reciprocal for the codes, fp16
// fields stored), so a grid from the reference rule with reference codes gives RTN's bytes exactly.

/// One 32-weight block's grid in a GGUF block type.
public struct BlockGrid: Equatable, Sendable {
    /// The block type (one of `BlockGrid.supports`).
    public let format: WeightFormat
    /// fp32 scale and its reciprocal, used to round values to codes (as the reference does).
    public let scale: Float
    public let inverse: Float
    /// fp32 minimum, used to round (the `_1` types; 0 otherwise).
    public let minimum: Float
    /// The stored fields, widened: what dequantization multiplies and adds.
    public let storedScale: Float
    public let storedMinimum: Float

    /// Weights per block.
    public static let size = GGMLBlock.size

    /// Whether `format` is a GGUF block type with a grid per 32 weights.
    public static func supports(_ format: WeightFormat) -> Bool {
        switch format {
        case .q8_0, .q5_1, .q5_0, .q4_1, .q4_0: return true
        case .f32, .f16, .bf16, .int8: return false
        }
    }

    /// A grid with an explicit fp32 scale (and minimum for the `_1` types).
    public init(format: WeightFormat, scale: Float, minimum: Float = 0) {
        precondition(Self.supports(format), "\(format) has no block grid")
        self.format = format
        self.scale = scale
        inverse = scale != 0 ? 1 / scale : 0
        let affine = format == .q4_1 || format == .q5_1
        self.minimum = affine ? minimum : 0
        storedScale = Float(Float16(scale))
        storedMinimum = affine ? Float(Float16(minimum)) : 0
    }

    /// The type's reference grid for the 32 values at `x`: d = m / −8 (Q4_0) or m / −16 (Q5_0) with m
    /// the signed value of largest magnitude; d = max|x| / 127 (Q8_0); d = (max − min) / 15 or 31 and
    /// minimum = min (Q4_1, Q5_1).
    public static func reference(_ format: WeightFormat, _ x: UnsafePointer<Float>) -> BlockGrid {
        switch format {
        case .q4_0: return BlockGrid(format: format, scale: GGMLBlock.signedMaximum(x) / -8)
        case .q5_0: return BlockGrid(format: format, scale: GGMLBlock.signedMaximum(x) / -16)
        case .q8_0:
            var amax: Float = 0
            for i in 0..<size { amax = max(amax, abs(x[i])) }
            return BlockGrid(format: format, scale: amax / 127)
        case .q4_1, .q5_1:
            let (low, high) = GGMLBlock.range(x)
            return BlockGrid(format: format, scale: (high - low) / (format == .q4_1 ? 15 : 31), minimum: low)
        case .f32, .f16, .bf16, .int8: preconditionFailure("\(format) has no block grid")
        }
    }

    /// Largest code (codes run from 0, except Q8_0's −127...127).
    public var maximumCode: Int32 {
        switch format {
        case .q4_0, .q4_1: return 15
        case .q5_0, .q5_1: return 31
        default: return 127
        }
    }

    /// The code `x` rounds to: the reference rounding (truncation of x·(1/d) + 8.5 or 16.5, of
    /// (x − min)·(1/d) + 0.5, Q8_0's halves away from zero), clamped to the code range, so values
    /// outside the grid (GPTQ's updated weights) take the nearest end.
    @inline(__always)
    public func code(_ x: Float) -> Int32 {
        switch format {
        case .q4_0: return Int32(min(max(x * inverse + 8.5, 0), 15))
        case .q5_0: return Int32(min(max(x * inverse + 16.5, 0), 31))
        case .q4_1: return Int32(min(max((x - minimum) * inverse + 0.5, 0), 15))
        case .q5_1: return Int32(min(max((x - minimum) * inverse + 0.5, 0), 31))
        default: return Int32(min(max((x * inverse).rounded(.toNearestOrAwayFromZero), -127), 127))
        }
    }

    /// The value code `q` dequantizes to, exactly as the type's dequantization computes it.
    @inline(__always)
    public func value(_ q: Int32) -> Float {
        switch format {
        case .q4_0: return Float(q - 8) * storedScale
        case .q5_0: return Float(q - 16) * storedScale
        case .q4_1, .q5_1: return Float(q) * storedScale + storedMinimum
        default: return Float(q) * storedScale
        }
    }

    /// Writes this grid and 32 codes as one block of `format` (`format.traits.bytesPerBlock` bytes).
    public func encode(_ codes: UnsafePointer<Int32>, into out: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.size) { buffer in
            let q = buffer.baseAddress!
            for i in 0..<Self.size { q[i] = UInt8(truncatingIfNeeded: codes[i]) }
            GGMLBlock.storeHalf(scale, at: out)
            switch format {
            case .q4_0: GGMLBlock.packNibbles(q, into: out + 2)
            case .q5_0:
                GGMLBlock.storeHighBits(q, at: out + 2)
                GGMLBlock.packNibbles(q, into: out + 6)
            case .q4_1:
                GGMLBlock.storeHalf(minimum, at: out + 2)
                GGMLBlock.packNibbles(q, into: out + 4)
            case .q5_1:
                GGMLBlock.storeHalf(minimum, at: out + 2)
                GGMLBlock.storeHighBits(q, at: out + 4)
                GGMLBlock.packNibbles(q, into: out + 8)
            default:
                (out + 2).copyMemory(from: q, byteCount: Self.size)
            }
        }
    }

    /// Σ wᵢ·(xᵢ − value(code(xᵢ)))² over the block (w nil: unweighted), in Double.
    public func weightedError(_ x: UnsafePointer<Float>, weights w: UnsafePointer<Float>?) -> Double {
        var total: Double = 0
        for i in 0..<Self.size {
            let e = Double(x[i] - value(code(x[i])))
            total += (w.map { Double($0[i]) } ?? 1) * e * e
        }
        return total
    }

    /// Quantizes the 32 values at `x` on this grid into one block at `out`.
    public func quantize(_ x: UnsafePointer<Float>, into out: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.size) { buffer in
            for i in 0..<Self.size { buffer[i] = code(x[i]) }
            encode(buffer.baseAddress!, into: out)
        }
    }
}
