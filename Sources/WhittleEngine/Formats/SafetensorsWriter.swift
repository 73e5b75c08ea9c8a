// Writer for the safetensors format: the header JSON (metadata first, tensors in the given
// order, offsets contiguous from 0), padded with spaces to a multiple of 8 bytes as the
// reference writer does, followed by little-endian tensor data.

/// Builds safetensors files in memory.
public enum SafetensorsWriter {
    /// One tensor to write: raw little-endian bytes of the given type and shape.
    public struct RawTensor: Sendable {
        public var name: String
        public var dataType: TensorDataType
        public var shape: [Int]
        public var bytes: [UInt8]
        public init(name: String, dataType: TensorDataType, shape: [Int], bytes: [UInt8]) {
            self.name = name; self.dataType = dataType; self.shape = shape; self.bytes = bytes
        }
    }

    /// Serializes Float tensors as F32. Throws `.file` if a name repeats, is `__metadata__`,
    /// or a tensor's value count differs from the product of its shape.
    public static func serialize(tensors: [(name: String, shape: [Int], values: [Float])],
                                 metadata: [String: String] = [:]) throws -> [UInt8] {
        let raw = tensors.map { tensor in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(tensor.values.count * 4)
            for value in tensor.values {
                let bits = value.bitPattern
                for shift in [0, 8, 16, 24] { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
            }
            return RawTensor(name: tensor.name, dataType: .f32, shape: tensor.shape, bytes: bytes)
        }
        return try serialize(raw, metadata: metadata)
    }

    /// Serializes tensors of any type from their raw little-endian bytes.
    public static func serialize(_ tensors: [RawTensor], metadata: [String: String] = [:]) throws -> [UInt8] {
        let descriptors = tensors.map { TensorDescriptor(name: $0.name, dataType: $0.dataType, shape: $0.shape) }
        for (tensor, descriptor) in zip(tensors, descriptors) {
            let needed = try descriptor.byteCount()
            guard needed == tensor.bytes.count else {
                throw WhittleError.file("tensor \"\(tensor.name)\" has \(tensor.bytes.count) bytes but shape \(tensor.shape) × \(tensor.dataType.rawValue) needs \(needed)",
                                        hint: "this is a bug in the caller: shape and values disagree")
            }
        }
        var header = try self.header(descriptors, metadata: metadata)
        let offset = tensors.reduce(0) { $0 + $1.bytes.count }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        let length = UInt64(header.count)
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
        out += header
        header = []
        for tensor in tensors { out += tensor.bytes }
        return out
    }

    /// A tensor's name, type and shape: what the header says of it (its bytes follow from them).
    public struct TensorDescriptor: Equatable, Sendable {
        public var name: String
        public var dataType: TensorDataType
        public var shape: [Int]
        public init(name: String, dataType: TensorDataType, shape: [Int]) {
            self.name = name; self.dataType = dataType; self.shape = shape
        }

        /// Bytes of the tensor's data (`.file` error on a negative or overflowing shape).
        func byteCount() throws -> Int {
            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard dimension >= 0, !overflow else {
                    throw WhittleError.file("tensor \"\(name)\" has an invalid shape \(shape)")
                }
                count = product
            }
            let (needed, overflow) = count.multipliedReportingOverflow(by: dataType.byteSize)
            guard !overflow else {
                throw WhittleError.file("tensor \"\(name)\" of shape \(shape) × \(dataType.rawValue) needs more than Int.max bytes")
            }
            return needed
        }
    }

    /// The size in bytes of the file `serialize` writes for these tensors (in this order) and metadata,
    /// computed without their data: 8 + the padded header + the data.
    public static func fileBytes(_ tensors: [TensorDescriptor], metadata: [String: String] = [:]) throws -> Int {
        let data = try tensors.reduce(0) { $0 + (try $1.byteCount()) }
        return 8 + (try header(tensors, metadata: metadata)).count + data
    }

    /// The header JSON (metadata first, offsets contiguous from 0), padded with spaces to a multiple of 8.
    static func header(_ tensors: [TensorDescriptor], metadata: [String: String]) throws -> [UInt8] {
        var members: [JSONValue.Member] = []
        if !metadata.isEmpty {
            members.append(.init("__metadata__", .object(metadata.mapValues { JSONValue.string($0) })))
        }
        var names = Set<String>()
        var offset = 0
        for tensor in tensors {
            guard tensor.name != "__metadata__", names.insert(tensor.name).inserted else {
                throw WhittleError.file("cannot write tensor name \"\(tensor.name)\" twice or as __metadata__",
                                        hint: "give every tensor a distinct name")
            }
            let bytes = try tensor.byteCount()
            members.append(.init(tensor.name, .object([
                .init("dtype", .string(tensor.dataType.rawValue)),
                .init("shape", .array(tensor.shape.map { JSONValue.int($0) })),
                .init("data_offsets", .array([.int(offset), .int(offset + bytes)])),
            ])))
            offset += bytes
        }
        var header = Array(JSONValue.object(members).serialized().utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        return header
    }
}
