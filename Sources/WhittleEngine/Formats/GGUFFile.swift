// Reader for GGUF files (v3; v2 has the same layout): header, metadata, tensor infos and the
// aligned data section. Files are untrusted input: every count, length, dimension and offset is
// checked against the bytes that remain before anything is allocated or read, so a hostile file
// costs at most a small multiple of its own size, and every failure is a `WhittleError.file`
// naming the problem and what to do. ggml's own reader (gguf.cpp) sets the rules followed here.

/// A parsed, validated GGUF file held in memory.
public struct GGUFFile: Sendable {
    /// The file's version (2 or 3).
    public let version: UInt32
    /// Metadata in file order (keys are unique).
    public let metadata: [(key: String, value: GGUFValue)]
    /// Tensor descriptions in file order (names are unique).
    public let tensors: [GGUFTensorInfo]
    /// Tensor data alignment (`general.alignment`, 32 when absent).
    public let alignment: Int
    /// Absolute offset of the data section.
    public let dataOffset: Int
    private let bytes: [UInt8]
    private let index: [String: Int]

    /// Reads and validates the file at `path`. Throws `.io` if it cannot be read, `.file` if it is malformed.
    public init(path: String) throws {
        let bytes = try FileIO.readFile(path)
        do {
            try self.init(bytes: bytes)
        } catch let error as WhittleError where error.kind == .invalidFile {
            throw WhittleError(error.kind, "\(path): \(error.message)", hint: error.hint)
        }
    }

    /// Validates a complete GGUF file held in `bytes`.
    public init(bytes: [UInt8]) throws {
        var reader = GGUFReader(bytes: bytes)
        let magic = try reader.u32("the magic number")
        guard magic == GGUF.magic else {
            throw Self.invalid("it does not start with the magic \"GGUF\" (found \(Self.printable(bytes.prefix(4))))",
                               hint: "this is not a GGUF file; give the path of a .gguf file")
        }
        let version = try reader.u32("the version")
        guard version == 2 || version == 3 else {
            let detail = version.byteSwapped == 3 || version.byteSwapped == 2 ? " (a big-endian file, which Whittle does not read)" : ""
            throw Self.invalid("it has GGUF version \(version)\(detail); Whittle reads versions 2 and 3",
                               hint: "convert it with a current llama.cpp (e.g. `llama-quantize --allow-requantize IN OUT COPY`)")
        }
        let tensorCount = try reader.count("the tensor count", minimumElementSize: 8 + 4 + 4 + 8)
        let keyCount = try reader.count("the metadata key count", minimumElementSize: 8 + 4 + 1)
        var metadata: [(key: String, value: GGUFValue)] = []
        var keys = Set<String>()
        metadata.reserveCapacity(keyCount)
        for k in 0..<keyCount {
            let key = try reader.string("metadata key \(k)")
            guard !key.isEmpty, key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw Self.invalid("metadata key \(k) \"\(key.prefix(80))\" is empty or not printable ASCII",
                                   hint: "GGUF keys are ASCII names like general.architecture; the file is damaged")
            }
            guard keys.insert(key).inserted else {
                throw Self.invalid("metadata key \"\(key)\" appears twice", hint: "each key may appear once; the file is damaged or was written by a faulty tool")
            }
            metadata.append((key, try reader.value("metadata \"\(key)\"")))
        }
        let alignment = try Self.alignment(metadata)
        var tensors: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        tensors.reserveCapacity(tensorCount)
        for t in 0..<tensorCount {
            let info = try reader.tensorInfo(t, alignment: alignment)
            guard index.updateValue(tensors.count, forKey: info.name) == nil else {
                throw Self.invalid("tensor name \"\(info.name)\" appears twice", hint: "each tensor may appear once; the file is damaged")
            }
            tensors.append(info)
        }
        let (padded, overflow) = reader.position.addingReportingOverflow(alignment - 1)
        guard !overflow else { throw Self.invalid("the header is too long") }
        let dataOffset = padded / alignment * alignment
        try Self.checkData(tensors, dataOffset: dataOffset, fileSize: bytes.count, alignment: alignment)
        self.version = version
        self.metadata = metadata
        self.tensors = tensors
        self.alignment = alignment
        self.dataOffset = dataOffset
        self.bytes = bytes
        self.index = index
    }

    /// The value of metadata `key`, if present.
    public subscript(key: String) -> GGUFValue? { metadata.first { $0.key == key }?.value }

    /// The tensor called `name`, if present.
    public func tensor(named name: String) -> GGUFTensorInfo? { index[name].map { tensors[$0] } }

    /// The stored bytes of `tensor` (one of `tensors`), without padding.
    public func data(_ tensor: GGUFTensorInfo) -> ArraySlice<UInt8> {
        let start = dataOffset + tensor.offset
        return bytes[start..<(start + tensor.byteCount)]
    }

    /// Size of the file in bytes.
    public var byteCount: Int { bytes.count }

    static func alignment(_ metadata: [(key: String, value: GGUFValue)]) throws -> Int {
        guard let value = metadata.first(where: { $0.key == "general.alignment" })?.value else { return GGUF.defaultAlignment }
        guard case .uint32(let alignment) = value else {
            throw invalid("general.alignment is \(value.typeDescription), not uint32", hint: "the file is damaged or was written by a faulty tool")
        }
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= 1 << 20 else {
            throw invalid("general.alignment is \(alignment), not a power of two up to 2^20",
                          hint: "the file is damaged; GGUF writers use 32")
        }
        return Int(alignment)
    }

    /// Tensors are stored in file order, each at the previous one's end padded to the alignment (as
    /// ggml requires), inside the file; after the last one only its padding may follow. A changed type
    /// or dimension therefore shows as a wrong offset or a wrong file size.
    static func checkData(_ tensors: [GGUFTensorInfo], dataOffset: Int, fileSize: Int, alignment: Int) throws {
        guard !tensors.isEmpty else { return }
        guard dataOffset <= fileSize else {
            throw invalid("the header ends at byte \(dataOffset) (aligned), past the end of the \(fileSize)-byte file (truncated?)",
                          hint: "the file is truncated; copy or download it again")
        }
        let available = fileSize - dataOffset
        var expected = 0
        for tensor in tensors {
            guard tensor.offset == expected else {
                let problem = tensor.offset < expected ? "overlaps the tensor before it" : "leaves a gap after the tensor before it"
                throw invalid("tensor \"\(tensor.name)\" data offset \(tensor.offset) \(problem) (expected \(expected): tensors follow each other in order, padded to \(alignment) bytes)",
                              hint: "the file is damaged, or a tensor's type or dimensions were changed; convert it again")
            }
            let (end, overflow) = tensor.offset.addingReportingOverflow(tensor.byteCount)
            guard !overflow, end <= available else {
                throw invalid("tensor \"\(tensor.name)\" data (offset \(tensor.offset), \(tensor.byteCount) bytes) runs past the end of the file's \(available)-byte data section",
                              hint: "the file is truncated or damaged; copy or download it again")
            }
            expected = (end + alignment - 1) / alignment * alignment
        }
        guard available <= expected else {
            throw invalid("the file has \(available - expected) bytes after the last tensor's data and padding",
                          hint: "the file is damaged, or a tensor's type or dimensions were changed; convert it again")
        }
    }

    static func invalid(_ message: String, hint: String = "the file is damaged, truncated or not GGUF; copy or convert it again") -> WhittleError {
        .file("invalid GGUF file: \(message)", hint: hint)
    }

    static func printable<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        bytes.map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
    }
}

/// A bounds-checked little-endian cursor over a GGUF file's bytes.
struct GGUFReader {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - position }

    /// Fails unless `count` more bytes exist.
    func need(_ count: Int, _ what: String) throws {
        guard count <= remaining else {
            throw GGUFFile.invalid("\(what) at byte \(position) needs \(count) bytes but only \(remaining) remain (truncated?)",
                                   hint: "the file is truncated or damaged; copy or download it again")
        }
    }

    mutating func integer<T: FixedWidthInteger>(_ what: String, as: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        try need(size, what)
        var value: T = 0
        for k in (0..<size).reversed() { value = value << 8 | T(truncatingIfNeeded: bytes[position + k]) }
        position += size
        return value
    }

    mutating func u32(_ what: String) throws -> UInt32 { try integer(what, as: UInt32.self) }
    mutating func u64(_ what: String) throws -> UInt64 { try integer(what, as: UInt64.self) }

    /// A UInt64 count of items, each at least `minimumElementSize` bytes: more than the remaining bytes can hold is an error.
    mutating func count(_ what: String, minimumElementSize: Int) throws -> Int {
        let declared = try u64(what)
        guard declared <= UInt64(remaining / minimumElementSize) else {
            throw GGUFFile.invalid("\(what) is \(declared), more than the \(remaining) bytes left in the file can hold",
                                   hint: "the file is truncated or damaged; copy or download it again")
        }
        return Int(declared)
    }

    mutating func string(_ what: String) throws -> String {
        let length = try u64("the length of \(what)")
        guard length <= UInt64(remaining) else {
            throw GGUFFile.invalid("\(what) declares \(length) bytes but only \(remaining) remain in the file",
                                   hint: "the file is truncated or damaged; copy or download it again")
        }
        let range = position..<(position + Int(length))
        guard let text = UTF8Validation.string(bytes[range]) else {
            throw GGUFFile.invalid("\(what) is not valid UTF-8", hint: "the file is damaged; GGUF strings are UTF-8")
        }
        position = range.upperBound
        return text
    }

    mutating func valueType(_ what: String) throws -> GGUFValueType {
        let raw = try u32("the type of \(what)")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw GGUFFile.invalid("\(what) has unknown value type \(raw) (GGUF defines 0–12)",
                                   hint: "the file is damaged or from a newer GGUF version")
        }
        return type
    }

    mutating func value(_ what: String) throws -> GGUFValue {
        let type = try valueType(what)
        switch type {
        case .uint8: return .uint8(try integer(what, as: UInt8.self))
        case .int8: return .int8(try integer(what, as: Int8.self))
        case .uint16: return .uint16(try integer(what, as: UInt16.self))
        case .int16: return .int16(try integer(what, as: Int16.self))
        case .uint32: return .uint32(try u32(what))
        case .int32: return .int32(try integer(what, as: Int32.self))
        case .float32: return .float32(Float(bitPattern: try u32(what)))
        case .bool: return .bool(try bool(what))
        case .string: return .string(try string(what))
        case .uint64: return .uint64(try u64(what))
        case .int64: return .int64(try integer(what, as: Int64.self))
        case .float64: return .float64(Double(bitPattern: try u64(what)))
        case .array: return .array(try array(what))
        }
    }

    mutating func bool(_ what: String) throws -> Bool {
        let byte = try integer(what, as: UInt8.self)
        guard byte <= 1 else { throw GGUFFile.invalid("\(what) is a bool holding \(byte), not 0 or 1") }
        return byte == 1
    }

    mutating func array(_ what: String) throws -> GGUFArray {
        let type = try valueType("the elements of \(what)")
        let nested = GGUFFile.invalid("\(what) is an array of arrays, which ggml does not read", hint: "flatten the value into one array")
        guard type != .array else { throw nested }
        let count = try self.count("the element count of \(what)", minimumElementSize: type.minimumSize)
        func elements<T>(_ read: (inout GGUFReader) throws -> T) throws -> [T] {
            var out: [T] = []
            out.reserveCapacity(count)
            for _ in 0..<count { out.append(try read(&self)) }
            return out
        }
        switch type {
        case .uint8: return .uint8(try elements { try $0.integer(what, as: UInt8.self) })
        case .int8: return .int8(try elements { try $0.integer(what, as: Int8.self) })
        case .uint16: return .uint16(try elements { try $0.integer(what, as: UInt16.self) })
        case .int16: return .int16(try elements { try $0.integer(what, as: Int16.self) })
        case .uint32: return .uint32(try elements { try $0.u32(what) })
        case .int32: return .int32(try elements { try $0.integer(what, as: Int32.self) })
        case .float32: return .float32(try elements { Float(bitPattern: try $0.u32(what)) })
        case .bool: return .bool(try elements { try $0.bool(what) })
        case .string: return .string(try elements { try $0.string("an element of \(what)") })
        case .uint64: return .uint64(try elements { try $0.u64(what) })
        case .int64: return .int64(try elements { try $0.integer(what, as: Int64.self) })
        case .float64: return .float64(try elements { Double(bitPattern: try $0.u64(what)) })
        case .array: throw nested
        }
    }

    mutating func tensorInfo(_ number: Int, alignment: Int) throws -> GGUFTensorInfo {
        let name = try string("the name of tensor \(number)")
        guard !name.isEmpty, name.utf8.count <= GGUF.maxTensorNameBytes else {
            throw GGUFFile.invalid("tensor \(number)'s name \"\(name.prefix(80))\" is empty or longer than ggml's \(GGUF.maxTensorNameBytes) bytes")
        }
        let rank = try u32("the dimension count of \"\(name)\"")
        guard (1...UInt32(GGUF.maxDimensions)).contains(rank) else {
            throw GGUFFile.invalid("tensor \"\(name)\" has \(rank) dimensions; ggml tensors have 1 to \(GGUF.maxDimensions)")
        }
        var dimensions: [Int] = []
        var count = 1
        for axis in 0..<Int(rank) {
            let size = try u64("dimension \(axis) of \"\(name)\"")
            guard size >= 1, size <= UInt64(Int.max) else {
                throw GGUFFile.invalid("tensor \"\(name)\" dimension \(axis) is \(size); every dimension must be at least 1")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(size))
            guard !overflow else { throw GGUFFile.invalid("tensor \"\(name)\" has too many elements (the dimensions overflow)") }
            count = product
            dimensions.append(Int(size))
        }
        let rawType = try u32("the type of \"\(name)\"")
        guard let type = GGMLType.withID(rawType) else {
            throw GGUFFile.invalid("tensor \"\(name)\" has unknown ggml type \(rawType)",
                                   hint: "the file is damaged or uses a type newer than Whittle knows; requantize it with llama-quantize")
        }
        guard dimensions[0] % type.blockSize == 0 else {
            throw GGUFFile.invalid("tensor \"\(name)\" rows of \(dimensions[0]) values are not whole \(type) blocks of \(type.blockSize)",
                                   hint: "the file is damaged; ggml stores each row as whole blocks")
        }
        let (byteCount, overflow) = (count / type.blockSize).multipliedReportingOverflow(by: type.bytesPerBlock)
        guard !overflow else { throw GGUFFile.invalid("tensor \"\(name)\" has too many bytes (overflow)") }
        let offset = try u64("the data offset of \"\(name)\"")
        guard offset <= UInt64(Int.max) else {
            throw GGUFFile.invalid("tensor \"\(name)\" data offset \(offset) lies outside any file")
        }
        guard Int(offset) % alignment == 0 else {
            throw GGUFFile.invalid("tensor \"\(name)\" data offset \(offset) is not a multiple of the alignment \(alignment)")
        }
        return GGUFTensorInfo(name: name, dimensions: dimensions, type: type, offset: Int(offset), byteCount: byteCount)
    }
}
