// Writer for GGUF v3 files: header, metadata in the given order, tensor infos, then each tensor's
// bytes padded with zeros to the alignment (after the last tensor too), which is the layout the
// `gguf` Python package and llama.cpp write. `write(_:to:)` publishes a file atomically (temporary
// file, fsync, rename, fsync of the directory), so a full disk never leaves a half-written file.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds GGUF files in memory.
public enum GGUFWriter {
    /// One tensor to write: ggml's `ne` (row length first), type and already-encoded bytes.
    public struct Tensor: Sendable {
        public var name: String
        public var dimensions: [Int]
        public var type: GGMLType
        public var bytes: [UInt8]
        public init(name: String, dimensions: [Int], type: GGMLType, bytes: [UInt8]) {
            self.name = name; self.dimensions = dimensions; self.type = type; self.bytes = bytes
        }
    }

    /// The bytes of a GGUF v3 file. The alignment is `general.alignment` when `metadata` sets it
    /// (a uint32 power of two), else 32. Throws `.file` if a key or tensor name repeats, a name is
    /// empty or too long for ggml, or a tensor's bytes do not match its dimensions and type.
    public static func serialize(metadata: [(key: String, value: GGUFValue)], tensors: [Tensor]) throws -> [UInt8] {
        let alignment = try GGUFFile.alignment(metadata)
        var out: [UInt8] = []
        out.reserveCapacity(tensors.reduce(4096) { $0 + $1.bytes.count + alignment })
        append(GGUF.magic, to: &out)
        append(GGUF.version, to: &out)
        append(UInt64(tensors.count), to: &out)
        append(UInt64(metadata.count), to: &out)
        var keys = Set<String>()
        for (key, value) in metadata {
            guard keys.insert(key).inserted else {
                throw WhittleError.file("cannot write metadata key \"\(key)\" twice", hint: "this is a bug in the caller: give each key once")
            }
            append(key, to: &out)
            append(value, to: &out)
        }
        var names = Set<String>()
        var offset = 0
        for tensor in tensors {
            try check(tensor)
            guard names.insert(tensor.name).inserted else {
                throw WhittleError.file("cannot write tensor \"\(tensor.name)\" twice", hint: "this is a bug in the caller: give each tensor once")
            }
            append(tensor.name, to: &out)
            append(UInt32(tensor.dimensions.count), to: &out)
            for size in tensor.dimensions { append(UInt64(size), to: &out) }
            append(tensor.type.id, to: &out)
            append(UInt64(offset), to: &out)
            offset += padded(tensor.bytes.count, alignment)
        }
        out += [UInt8](repeating: 0, count: padded(out.count, alignment) - out.count)
        for tensor in tensors {
            out += tensor.bytes
            out += [UInt8](repeating: 0, count: padded(tensor.bytes.count, alignment) - tensor.bytes.count)
        }
        return out
    }

    /// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, rename, fsync of the
    /// directory. On failure (a full disk included) the temporary file is removed and `.io` is thrown;
    /// an existing file at `path` is left as it was.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = "\(path).tmp-\(getpid())"
        do {
            try FileIO.writeFile(bytes, to: temporary, sync: true)
            guard rename(temporary, path) == 0 else { throw FileIO.error("rename \(temporary) to", path) }
        } catch {
            unlink(temporary)
            throw error
        }
        try FileIO.syncDirectory(AtomicDirectory.parent(of: path))
    }

    static func padded(_ count: Int, _ alignment: Int) -> Int { (count + alignment - 1) / alignment * alignment }

    static func check(_ tensor: Tensor) throws {
        let hint = "this is a bug in the caller: the tensor's dimensions, type and bytes disagree"
        guard !tensor.name.isEmpty, tensor.name.utf8.count <= GGUF.maxTensorNameBytes else {
            throw WhittleError.file("tensor name \"\(tensor.name)\" is empty or longer than ggml's \(GGUF.maxTensorNameBytes) bytes",
                                    hint: "give the tensor a shorter name")
        }
        guard (1...GGUF.maxDimensions).contains(tensor.dimensions.count), tensor.dimensions.allSatisfy({ $0 >= 1 }) else {
            throw WhittleError.file("tensor \"\(tensor.name)\" has dimensions \(tensor.dimensions); ggml needs 1 to 4 positive sizes", hint: hint)
        }
        guard tensor.dimensions[0] % tensor.type.blockSize == 0 else {
            throw WhittleError.file("tensor \"\(tensor.name)\" rows of \(tensor.dimensions[0]) are not whole \(tensor.type) blocks of \(tensor.type.blockSize)",
                                    hint: "store it in a type whose block size divides \(tensor.dimensions[0]) (f32, f16 or bf16 always fit)")
        }
        var count = 1
        for size in tensor.dimensions {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw WhittleError.file("tensor \"\(tensor.name)\" has too many elements", hint: hint) }
            count = product
        }
        guard count / tensor.type.blockSize * tensor.type.bytesPerBlock == tensor.bytes.count else {
            throw WhittleError.file("tensor \"\(tensor.name)\" has \(tensor.bytes.count) bytes; \(tensor.dimensions) in \(tensor.type) needs \(count / tensor.type.blockSize * tensor.type.bytesPerBlock)",
                                    hint: hint)
        }
    }

    static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        for k in 0..<MemoryLayout<T>.size { out.append(UInt8(truncatingIfNeeded: value >> (8 * k))) }
    }

    static func append(_ text: String, to out: inout [UInt8]) {
        append(UInt64(text.utf8.count), to: &out)
        out += text.utf8
    }

    static func append(_ value: GGUFValue, to out: inout [UInt8]) {
        append(value.type.rawValue, to: &out)
        switch value {
        case .uint8(let v): append(v, to: &out)
        case .int8(let v): append(v, to: &out)
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .bool(let v): append(UInt8(v ? 1 : 0), to: &out)
        case .string(let v): append(v, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .array(let array): append(array, to: &out)
        }
    }

    static func append(_ array: GGUFArray, to out: inout [UInt8]) {
        append(array.elementType.rawValue, to: &out)
        append(UInt64(array.count), to: &out)
        switch array {
        case .uint8(let a): out += a
        case .int8(let a): for v in a { append(v, to: &out) }
        case .uint16(let a): for v in a { append(v, to: &out) }
        case .int16(let a): for v in a { append(v, to: &out) }
        case .uint32(let a): for v in a { append(v, to: &out) }
        case .int32(let a): for v in a { append(v, to: &out) }
        case .float32(let a): for v in a { append(v.bitPattern, to: &out) }
        case .bool(let a): for v in a { append(UInt8(v ? 1 : 0), to: &out) }
        case .string(let a): for v in a { append(v, to: &out) }
        case .uint64(let a): for v in a { append(v, to: &out) }
        case .int64(let a): for v in a { append(v, to: &out) }
        case .float64(let a): for v in a { append(v.bitPattern, to: &out) }
        }
    }
}
