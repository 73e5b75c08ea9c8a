// The vocabulary of GGUF files (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): metadata
// value types and values, ggml's tensor types with their block sizes, and one tensor's description.
// `GGUFFile` reads these from hostile bytes, `GGUFWriter` writes them; `GGUF+GPT2.swift` maps a
// Whittle model onto llama.cpp's `gpt2` architecture. The tensor-type table is the file format's
// own (it names every ggml type so a reader can check any file); which of them Whittle can run is
// `WeightFormat`'s business, matched by `WeightFormat.Traits.ggufType`.

/// GGUF's fixed constants.
public enum GGUF {
    /// "GGUF" read as a little-endian UInt32.
    public static let magic: UInt32 = 0x4655_4747
    /// The version this writer produces (the reader also accepts 2, which has the same layout).
    public static let version: UInt32 = 3
    /// Tensor data alignment when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// Longest tensor name ggml accepts (`GGML_MAX_NAME` is 64 bytes including the terminator).
    public static let maxTensorNameBytes = 63
    /// Most dimensions a ggml tensor has (`GGML_MAX_DIMS`).
    public static let maxDimensions = 4
}

/// The type tag of a metadata value (`gguf_type`).
public enum GGUFValueType: UInt32, CaseIterable, Sendable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Bytes one value of a fixed-size type occupies; nil for strings and arrays.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// Fewest bytes one value of this type takes in a file (a string is at least its 8-byte length).
    var minimumSize: Int { fixedSize ?? 8 }
}

/// A typed array of metadata values (GGUF arrays hold one element type; nested arrays are refused,
/// as ggml's own reader refuses them).
public enum GGUFArray: Equatable, Sendable {
    case uint8([UInt8]), int8([Int8]), uint16([UInt16]), int16([Int16]), uint32([UInt32]), int32([Int32])
    case float32([Float]), bool([Bool]), string([String]), uint64([UInt64]), int64([Int64]), float64([Double])

    /// The element type.
    public var elementType: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// Number of elements.
    public var count: Int {
        switch self {
        case .uint8(let a): a.count
        case .int8(let a): a.count
        case .uint16(let a): a.count
        case .int16(let a): a.count
        case .uint32(let a): a.count
        case .int32(let a): a.count
        case .float32(let a): a.count
        case .bool(let a): a.count
        case .string(let a): a.count
        case .uint64(let a): a.count
        case .int64(let a): a.count
        case .float64(let a): a.count
        }
    }
}

/// One metadata value.
public enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), array(GGUFArray), uint64(UInt64), int64(Int64), float64(Double)

    /// The value's type tag.
    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// An integer of any integer type, if it fits in `Int`.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// A float32 or float64 value.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: nil
        }
    }

    /// How the type reads in messages: `uint32`, `array of string`.
    public var typeDescription: String {
        if case .array(let a) = self { return "array of \(a.elementType)" }
        return "\(type)"
    }
}

/// A ggml tensor type: its id, name, and the block it stores values in.
public struct GGMLType: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// `ggml_type` id.
    public let id: UInt32
    /// ggml's name, e.g. `Q8_0`.
    public let name: String
    /// Values per block (1 for scalar types).
    public let blockSize: Int
    /// Bytes per block.
    public let bytesPerBlock: Int

    public var description: String { name }

    public init(id: UInt32, name: String, blockSize: Int, bytesPerBlock: Int) {
        self.id = id; self.name = name; self.blockSize = blockSize; self.bytesPerBlock = bytesPerBlock
    }

    /// Every type ggml defines today (ids 4, 5 and 31–33, 36–38 were removed from ggml).
    public static let all: [GGMLType] = [
        .init(id: 0, name: "F32", blockSize: 1, bytesPerBlock: 4), .init(id: 1, name: "F16", blockSize: 1, bytesPerBlock: 2),
        .init(id: 2, name: "Q4_0", blockSize: 32, bytesPerBlock: 18), .init(id: 3, name: "Q4_1", blockSize: 32, bytesPerBlock: 20),
        .init(id: 6, name: "Q5_0", blockSize: 32, bytesPerBlock: 22), .init(id: 7, name: "Q5_1", blockSize: 32, bytesPerBlock: 24),
        .init(id: 8, name: "Q8_0", blockSize: 32, bytesPerBlock: 34), .init(id: 9, name: "Q8_1", blockSize: 32, bytesPerBlock: 36),
        .init(id: 10, name: "Q2_K", blockSize: 256, bytesPerBlock: 84), .init(id: 11, name: "Q3_K", blockSize: 256, bytesPerBlock: 110),
        .init(id: 12, name: "Q4_K", blockSize: 256, bytesPerBlock: 144), .init(id: 13, name: "Q5_K", blockSize: 256, bytesPerBlock: 176),
        .init(id: 14, name: "Q6_K", blockSize: 256, bytesPerBlock: 210), .init(id: 15, name: "Q8_K", blockSize: 256, bytesPerBlock: 292),
        .init(id: 16, name: "IQ2_XXS", blockSize: 256, bytesPerBlock: 66), .init(id: 17, name: "IQ2_XS", blockSize: 256, bytesPerBlock: 74),
        .init(id: 18, name: "IQ3_XXS", blockSize: 256, bytesPerBlock: 98), .init(id: 19, name: "IQ1_S", blockSize: 256, bytesPerBlock: 50),
        .init(id: 20, name: "IQ4_NL", blockSize: 32, bytesPerBlock: 18), .init(id: 21, name: "IQ3_S", blockSize: 256, bytesPerBlock: 110),
        .init(id: 22, name: "IQ2_S", blockSize: 256, bytesPerBlock: 82), .init(id: 23, name: "IQ4_XS", blockSize: 256, bytesPerBlock: 136),
        .init(id: 24, name: "I8", blockSize: 1, bytesPerBlock: 1), .init(id: 25, name: "I16", blockSize: 1, bytesPerBlock: 2),
        .init(id: 26, name: "I32", blockSize: 1, bytesPerBlock: 4), .init(id: 27, name: "I64", blockSize: 1, bytesPerBlock: 8),
        .init(id: 28, name: "F64", blockSize: 1, bytesPerBlock: 8), .init(id: 29, name: "IQ1_M", blockSize: 256, bytesPerBlock: 56),
        .init(id: 30, name: "BF16", blockSize: 1, bytesPerBlock: 2), .init(id: 34, name: "TQ1_0", blockSize: 256, bytesPerBlock: 54),
        .init(id: 35, name: "TQ2_0", blockSize: 256, bytesPerBlock: 66), .init(id: 39, name: "MXFP4", blockSize: 32, bytesPerBlock: 17),
    ]

    /// The type with ggml id `id`, if ggml defines one.
    public static func withID(_ id: UInt32) -> GGMLType? { all.first { $0.id == id } }

    /// The GGUF type a Whittle weight format is stored as; nil for a format GGUF has no type for.
    public init?(_ format: WeightFormat) {
        guard let id = format.traits.ggufType, let type = Self.withID(id) else { return nil }
        self = type
    }

    /// The Whittle weight format of this type, if Whittle can run it.
    public var weightFormat: WeightFormat? { WeightFormat.allCases.first { $0.traits.ggufType == id } }
}

/// One tensor's entry in a GGUF file.
public struct GGUFTensorInfo: Equatable, Sendable {
    public let name: String
    /// ggml's `ne`: `dimensions[0]` is the row length (contiguous), e.g. `[in, out]` for an `[out, in]` matrix.
    public let dimensions: [Int]
    public let type: GGMLType
    /// Offset of its data from the start of the data section (a multiple of the alignment).
    public let offset: Int
    /// Bytes of its data (without padding).
    public let byteCount: Int

    /// Number of values.
    public var count: Int { dimensions.reduce(1, *) }
}
