// Reader for the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON describing each tensor, then the raw data.
// Files are untrusted input. Every rule of the reference reader (`read_metadata`,
// `Metadata::validate`; see notes/reliability.md §1.2) is checked before anything is sized
// from the header, and each failure is a `WhittleError.file` that names the rule.

/// Element types a safetensors header may declare (the `dtype` strings of the specification).
public enum TensorDataType: String, CaseIterable, Sendable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8"
    case bool = "BOOL"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64, .i64, .u64: 8
        case .f32, .i32, .u32: 4
        case .f16, .bf16, .i16, .u16: 2
        case .f8e4m3, .f8e5m2, .i8, .u8, .bool: 1
        }
    }
}

/// A parsed, validated safetensors file held in memory.
public struct SafetensorsFile: Sendable {
    /// Largest header the reader accepts (the reference reader's `MAX_HEADER_SIZE`).
    public static let maxHeaderSize = 100_000_000

    /// Where one tensor lives and what it holds.
    public struct TensorInfo: Equatable, Sendable {
        public var dataType: TensorDataType
        public var shape: [Int]
        /// Byte range inside the data section (after the header).
        public var dataOffsets: Range<Int>
        /// Number of elements (product of `shape`; 1 for a scalar).
        public var elementCount: Int
    }

    /// The optional `__metadata__` string map.
    public var metadata: [String: String]
    /// Tensor names in the order their data appears in the file.
    public let tensorNames: [String]
    private let entries: [String: TensorInfo]
    private let bytes: [UInt8]
    private let dataStart: Int

    /// Reads and validates the file at `path`. Throws `.io` if it cannot be read, `.file` if it is malformed.
    public init(path: String) throws {
        let bytes = try FileIO.readFile(path)
        do {
            try self.init(bytes: bytes)
        } catch let error as WhittleError where error.kind == .invalidFile {
            throw WhittleError(error.kind, "\(path): \(error.message)", hint: error.hint)
        }
    }

    /// Validates a complete safetensors file held in `bytes`.
    public init(bytes: [UInt8]) throws {
        guard bytes.count >= 8 else {
            throw Self.invalid("file is \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        var declared: UInt64 = 0
        for i in (0..<8).reversed() { declared = declared << 8 | UInt64(bytes[i]) }
        guard declared <= UInt64(Self.maxHeaderSize) else {
            throw Self.invalid("header length \(declared) exceeds the limit of \(Self.maxHeaderSize) bytes")
        }
        let headerLength = Int(declared)
        let (dataStart, overflow) = headerLength.addingReportingOverflow(8)
        guard !overflow, dataStart <= bytes.count else {
            throw Self.invalid("header length \(headerLength) runs past the end of the \(bytes.count)-byte file (truncated?)")
        }
        let header = bytes[8..<dataStart]
        if let bad = UTF8Validation.firstInvalidOffset(in: header) {
            throw Self.invalid("header is not valid UTF-8 (bad byte at header offset \(bad))")
        }
        try self.init(bytes: bytes, header: Array(header), dataStart: dataStart)
    }

    private init(bytes: [UInt8], header: [UInt8], dataStart: Int) throws {
        guard header.first == UInt8(ascii: "{") else { throw Self.invalid("header does not start with '{'") }
        let json: JSONValue
        do {
            json = try JSONValue.parse(header)
        } catch let error as WhittleError {
            throw Self.invalid("header is not valid JSON: \(error.message)")
        }
        guard case .object(let members) = json else { throw Self.invalid("header is not a JSON object") }
        var metadata: [String: String] = [:]
        var entries: [String: TensorInfo] = [:]
        var order: [(name: String, info: TensorInfo)] = []
        for member in members {
            if member.key == "__metadata__" {
                metadata = try Self.parseMetadata(member.value)
                continue
            }
            let info = try Self.parseTensor(member.key, member.value)
            guard entries.updateValue(info, forKey: member.key) == nil else {
                throw Self.invalid("duplicate tensor name \"\(member.key)\"")
            }
            order.append((member.key, info))
        }
        order.sort { ($0.info.dataOffsets.lowerBound, $0.info.dataOffsets.upperBound)
                   < ($1.info.dataOffsets.lowerBound, $1.info.dataOffsets.upperBound) }
        var expectedBegin = 0
        for (name, info) in order {
            guard info.dataOffsets.lowerBound == expectedBegin else {
                let problem = info.dataOffsets.lowerBound < expectedBegin ? "overlaps the previous tensor" : "leaves a gap after the previous tensor"
                throw Self.invalid("tensor \"\(name)\" data_offsets \(info.dataOffsets.lowerBound)..<\(info.dataOffsets.upperBound) \(problem) (expected begin \(expectedBegin))")
            }
            expectedBegin = info.dataOffsets.upperBound
        }
        let (fileEnd, overflow) = dataStart.addingReportingOverflow(expectedBegin)
        guard !overflow, fileEnd == bytes.count else {
            let detail = !overflow && fileEnd < bytes.count
                ? "has \(bytes.count - fileEnd) trailing bytes after the last tensor"
                : "is \(bytes.count) bytes but its tensors need \(overflow ? "more than Int.max" : String(fileEnd)) (truncated or offsets out of the file)"
            throw Self.invalid("file \(detail)")
        }
        self.metadata = metadata
        self.entries = entries
        self.tensorNames = order.map(\.name)
        self.bytes = bytes
        self.dataStart = dataStart
    }

    /// The declared type, shape and byte range of `name`, or nil if there is no such tensor.
    public func info(_ name: String) -> TensorInfo? { entries[name] }

    /// The raw little-endian bytes of `name`.
    public func rawBytes(_ name: String) throws -> ArraySlice<UInt8> {
        let info = try require(name)
        return bytes[(dataStart + info.dataOffsets.lowerBound)..<(dataStart + info.dataOffsets.upperBound)]
    }

    /// The values of `name` converted to Float (from F32, F16, BF16 or F64), in row-major order.
    public func floats(_ name: String) throws -> [Float] {
        let info = try require(name)
        let raw = try rawBytes(name)
        let base = raw.startIndex
        var out = [Float](repeating: 0, count: info.elementCount)
        func word(_ at: Int, _ size: Int) -> UInt64 {
            var value: UInt64 = 0
            for k in (0..<size).reversed() { value = value << 8 | UInt64(raw[at + k]) }
            return value
        }
        switch info.dataType {
        case .f32:
            for i in 0..<out.count { out[i] = Float(bitPattern: UInt32(word(base + 4 * i, 4))) }
        case .f64:
            for i in 0..<out.count { out[i] = Float(Double(bitPattern: word(base + 8 * i, 8))) }
        case .bf16:
            for i in 0..<out.count { out[i] = Float(bitPattern: UInt32(word(base + 2 * i, 2)) << 16) }
        case .f16:
            for i in 0..<out.count { out[i] = Self.halfToFloat(UInt16(word(base + 2 * i, 2))) }
        default:
            throw WhittleError.file("tensor \"\(name)\" has dtype \(info.dataType.rawValue), which cannot be read as floating point",
                                    hint: "only F32, F16, BF16 and F64 tensors convert to Float")
        }
        return out
    }

    private func require(_ name: String) throws -> TensorInfo {
        guard let info = entries[name] else {
            throw WhittleError.file("the file has no tensor named \"\(name)\"",
                                    hint: "it holds \(tensorNames.count) tensors, e.g. \(tensorNames.prefix(3).map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        return info
    }

    /// IEEE 754 binary16 to binary32, including subnormals, infinities and NaN.
    static func halfToFloat(_ half: UInt16) -> Float {
        let sign = UInt32(half >> 15) << 31
        let exponent = UInt32(half >> 10) & 0x1F
        let fraction = UInt32(half) & 0x3FF
        if exponent == 0 {
            let magnitude = Float(fraction) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | fraction << 13) }
        return Float(bitPattern: sign | (exponent + 112) << 23 | fraction << 13)
    }

    static func invalid(_ message: String) -> WhittleError {
        .file("invalid safetensors file: \(message)",
              hint: "the file is damaged, truncated or not safetensors; re-download or re-export it")
    }

    private static func parseMetadata(_ value: JSONValue) throws -> [String: String] {
        guard case .object(let members) = value else { throw invalid("__metadata__ is \(value.typeName), not an object") }
        var out: [String: String] = [:]
        for member in members {
            guard let text = member.value.stringValue else {
                throw invalid("__metadata__ value for \"\(member.key)\" is \(member.value.typeName), not a string")
            }
            out[member.key] = text
        }
        return out
    }

    private static func parseTensor(_ name: String, _ value: JSONValue) throws -> TensorInfo {
        guard case .object = value else { throw invalid("entry \"\(name)\" is \(value.typeName), not an object") }
        guard let typeText = value["dtype"]?.stringValue else { throw invalid("tensor \"\(name)\" has no dtype string") }
        guard let dataType = TensorDataType(rawValue: typeText) else { throw invalid("tensor \"\(name)\" has unknown dtype \"\(typeText)\"") }
        func integers(_ key: String) throws -> [Int] {
            guard case .array(let items)? = value[key] else { throw invalid("tensor \"\(name)\" has no \(key) array") }
            return try items.map { item in
                guard let number = item.intValue, number >= 0 else {
                    throw invalid("tensor \"\(name)\" \(key) holds \(item.serialized()), not a non-negative integer")
                }
                return number
            }
        }
        let shape = try integers("shape")
        let offsets = try integers("data_offsets")
        guard offsets.count == 2 else { throw invalid("tensor \"\(name)\" data_offsets has \(offsets.count) numbers, not 2") }
        guard offsets[0] <= offsets[1] else { throw invalid("tensor \"\(name)\" data_offsets end \(offsets[1]) is before begin \(offsets[0])") }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw invalid("tensor \"\(name)\" shape \(shape) has too many elements (overflow)") }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dataType.byteSize)
        guard !overflow else { throw invalid("tensor \"\(name)\" shape \(shape) has too many bytes (overflow)") }
        guard offsets[1] - offsets[0] == byteCount else {
            throw invalid("tensor \"\(name)\" spans \(offsets[1] - offsets[0]) bytes but shape \(shape) × \(dataType.rawValue) needs \(byteCount)")
        }
        return TensorInfo(dataType: dataType, shape: shape, dataOffsets: offsets[0]..<offsets[1], elementCount: count)
    }
}
