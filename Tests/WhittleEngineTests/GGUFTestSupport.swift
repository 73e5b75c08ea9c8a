// Test support for the GGUF suites: the reference files copied into Fixtures/gguf-reference, a small
// valid file, and `RawGGUF`, which lays out header fields by hand (any magic, count, type or offset)
// so hostile files can say exactly which rule they break.

import Foundation
@testable import WhittleEngine

enum GGUFFixture {
    static var directory: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("gguf-reference")
    }

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: directory.appendingPathComponent(name))) }

    /// One metadata value of every type, and arrays of every element type (strings included).
    static let everyType: [(key: String, value: GGUFValue)] = [
        ("general.architecture", .string("test")),
        ("t.u8", .uint8(200)), ("t.i8", .int8(-100)), ("t.u16", .uint16(60_000)), ("t.i16", .int16(-30_000)),
        ("t.u32", .uint32(4_000_000_000)), ("t.i32", .int32(-2_000_000_000)), ("t.f32", .float32(-1.5e-7)),
        ("t.bool", .bool(true)), ("t.string", .string("ünïcode ✓")), ("t.u64", .uint64(.max)), ("t.i64", .int64(.min)),
        ("t.f64", .float64(3.141592653589793)),
        ("a.u8", .array(.uint8([0, 255]))), ("a.i8", .array(.int8([-128, 127]))), ("a.u16", .array(.uint16([1, 65535]))),
        ("a.i16", .array(.int16([-1, 2]))), ("a.u32", .array(.uint32([7]))), ("a.i32", .array(.int32([-7, 0, 7]))),
        ("a.f32", .array(.float32([0.5, -0.25]))), ("a.bool", .array(.bool([false, true]))),
        ("a.string", .array(.string(["Ġ", "", "Ċhello"]))), ("a.u64", .array(.uint64([1 << 40]))),
        ("a.i64", .array(.int64([-(1 << 40)]))), ("a.f64", .array(.float64([1e300]))), ("a.empty", .array(.int32([]))),
    ]

    /// A small valid file: every metadata type, a Q8_0 matrix and an f32 vector whose byte count is a
    /// multiple of 32 (so the file has no trailing padding and every shorter prefix is incomplete).
    static func small() throws -> [UInt8] {
        var q8 = [UInt8](repeating: 0, count: 68)
        let values = (0..<64).map { Float($0 - 32) / 8 }
        q8.withUnsafeMutableBytes { WeightFormat.q8_0.quantizeRow(values, into: $0.baseAddress!, count: 64) }
        let vector = (0..<8).flatMap { i -> [UInt8] in withUnsafeBytes(of: Float(i).bitPattern.littleEndian, Array.init) }
        return try GGUFWriter.serialize(metadata: everyType, tensors: [
            .init(name: "m", dimensions: [32, 2], type: GGMLType(.q8_0)!, bytes: q8),
            .init(name: "v", dimensions: [8], type: GGMLType(.f32)!, bytes: vector),
        ])
    }
}

/// A GGUF file laid out field by field, for hostile inputs.
struct RawGGUF {
    var magic = GGUF.magic
    var version = GGUF.version
    /// Declared counts; nil means the true count.
    var tensorCount: UInt64?
    var keyCount: UInt64?
    var keys: [[UInt8]] = [RawGGUF.key("general.architecture", .string("test"))]
    var infos: [[UInt8]] = []
    var data: [UInt8] = []
    var alignment = 32

    var bytes: [UInt8] {
        var out: [UInt8] = []
        GGUFWriter.append(magic, to: &out)
        GGUFWriter.append(version, to: &out)
        GGUFWriter.append(tensorCount ?? UInt64(infos.count), to: &out)
        GGUFWriter.append(keyCount ?? UInt64(keys.count), to: &out)
        for key in keys { out += key }
        for info in infos { out += info }
        while out.count % alignment != 0 { out.append(0) }
        return out + data
    }

    static func key(_ name: String, _ value: GGUFValue) -> [UInt8] {
        var out: [UInt8] = []
        GGUFWriter.append(name, to: &out)
        GGUFWriter.append(value, to: &out)
        return out
    }

    /// A key whose value is given as raw bytes after its type tag.
    static func key(_ name: String, type: UInt32, raw: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        GGUFWriter.append(name, to: &out)
        GGUFWriter.append(type, to: &out)
        return out + raw
    }

    static func info(_ name: String, _ dimensions: [UInt64], type: UInt32 = 0, offset: UInt64 = 0, rank: UInt32? = nil) -> [UInt8] {
        var out: [UInt8] = []
        GGUFWriter.append(name, to: &out)
        GGUFWriter.append(rank ?? UInt32(dimensions.count), to: &out)
        for size in dimensions { GGUFWriter.append(size, to: &out) }
        GGUFWriter.append(type, to: &out)
        GGUFWriter.append(offset, to: &out)
        return out
    }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        var out: [UInt8] = []
        GGUFWriter.append(value, to: &out)
        return out
    }
}
