// The GGUF container: what the writer writes the reader reads back (every metadata type, arrays of
// strings, tensor infos and data), `general.alignment` is honoured, the writer refuses inconsistent
// tensors, and the reference files parse with the layout the `gguf` Python package reported.

import Foundation
import Testing
@testable import WhittleEngine
import WhittleTestSupport

@Suite struct GGUFFileTests {
    @Test func testGGUF_everyMetadataTypeRoundTrips() throws {
        let file = try GGUFFile(bytes: try GGUFFixture.small())
        #expect(file.version == 3 && file.alignment == 32)
        #expect(file.metadata.count == GGUFFixture.everyType.count)
        for ((key, value), expected) in zip(file.metadata, GGUFFixture.everyType) {
            #expect(key == expected.key && value == expected.value, "\(key)")
        }
        #expect(file["t.u64"]?.intValue == nil && file["t.i64"]?.intValue == Int.min && file["missing"] == nil)
        #expect(file.tensors.map(\.name) == ["m", "v"])
        let m = try #require(file.tensor(named: "m")), v = try #require(file.tensor(named: "v"))
        #expect(m.dimensions == [32, 2] && m.type.name == "Q8_0" && m.offset == 0 && m.byteCount == 68)
        #expect(v.dimensions == [8] && v.offset == 96 && v.byteCount == 32)
        #expect(file.dataOffset % 32 == 0 && file.dataOffset + 128 == file.byteCount)
        let floats = file.data(v).withUnsafeBytes { raw in (0..<8).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
        #expect(floats == (0..<8).map(Float.init))
    }

    @Test func testGGUF_generalAlignmentIsHonoured() throws {
        let metadata: [(key: String, value: GGUFValue)] = [("general.alignment", .uint32(64)), ("x", .string("abc"))]
        let bytes = try GGUFWriter.serialize(metadata: metadata, tensors: [
            .init(name: "a", dimensions: [3], type: GGMLType(.f32)!, bytes: [UInt8](repeating: 1, count: 12)),
            .init(name: "b", dimensions: [2], type: GGMLType(.f16)!, bytes: [UInt8](repeating: 2, count: 4)),
        ])
        let file = try GGUFFile(bytes: bytes)
        #expect(file.alignment == 64 && file.dataOffset % 64 == 0)
        #expect(file.tensors.map(\.offset) == [0, 64] && bytes.count == file.dataOffset + 128)
        #expect(Array(file.data(file.tensors[1])) == [2, 2, 2, 2])
        // Padding is zeros.
        #expect(bytes[(file.dataOffset + 12)..<(file.dataOffset + 64)].allSatisfy { $0 == 0 })
    }

    @Test func testGGUFWriter_refusesInconsistentTensors() throws {
        func refuses(_ tensor: GGUFWriter.Tensor, metadata: [(key: String, value: GGUFValue)] = []) -> Bool {
            do { _ = try GGUFWriter.serialize(metadata: metadata, tensors: [tensor]); return false } catch { return error is WhittleError }
        }
        #expect(refuses(.init(name: "w", dimensions: [40], type: GGMLType(.q8_0)!, bytes: [UInt8](repeating: 0, count: 34))))
        #expect(refuses(.init(name: "w", dimensions: [4], type: GGMLType(.f32)!, bytes: [0, 0])))
        #expect(refuses(.init(name: String(repeating: "n", count: 64), dimensions: [1], type: GGMLType(.f32)!, bytes: [0, 0, 0, 0])))
        #expect(refuses(.init(name: "w", dimensions: [1, 1, 1, 1, 1], type: GGMLType(.f32)!, bytes: [0, 0, 0, 0])))
        #expect(refuses(.init(name: "w", dimensions: [1], type: GGMLType(.f32)!, bytes: [0, 0, 0, 0]),
                        metadata: [("general.alignment", .uint32(24))]))
        let twice = GGUFWriter.Tensor(name: "w", dimensions: [1], type: GGMLType(.f32)!, bytes: [0, 0, 0, 0])
        #expect(throws: WhittleError.self) { try GGUFWriter.serialize(metadata: [], tensors: [twice, twice]) }
        #expect(throws: WhittleError.self) { try GGUFWriter.serialize(metadata: [("k", .bool(true)), ("k", .bool(false))], tensors: []) }
    }

    @Test func testGGUFWriter_writesAtomically() throws {
        let directory = TemporaryDirectory()
        let path = directory.path("model.gguf")
        let bytes = try GGUFFixture.small()
        try GGUFWriter.write(bytes, to: path)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.gguf"])
        #expect(throws: WhittleError.self) { try GGUFWriter.write(bytes, to: directory.path("missing/model.gguf")) }
        // The rename fails (a directory holds the name): the error says so and no temporary file is left.
        try FileManager.default.createDirectory(atPath: directory.path("taken.gguf"), withIntermediateDirectories: false)
        let error = try #require(throws: WhittleError.self) { try GGUFWriter.write(bytes, to: directory.path("taken.gguf")) }
        #expect(error.kind == .io && error.message.contains("taken.gguf"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["model.gguf", "taken.gguf"])
        #expect(try GGUFFile(path: path).tensors.count == 2)
    }

    @Test func testGGUF_referenceFilesParseAsTheGGUFPackageReadsThem() throws {
        // Figures from gguf-py's GGUFReader on the same files.
        let f32 = try GGUFFile(path: GGUFFixture.path("tiny-f32.gguf"))
        #expect(f32.metadata.count == 16 && f32.tensors.count == 52 && f32.dataOffset == 4416)
        #expect(f32["general.file_type"] == .uint32(0) && f32["general.quantization_version"] == nil)
        #expect(f32["tokenizer.ggml.merges"] == .array(.string(["Q Q"])))
        let q8 = try GGUFFile(path: GGUFFixture.path("tiny-q8_0.gguf"))
        #expect(q8.metadata.count == 17 && q8.dataOffset == 4480)
        #expect(q8.tensor(named: "blk.0.attn_qkv.weight") == GGUFTensorInfo(name: "blk.0.attn_qkv.weight", dimensions: [128, 384],
                                                                           type: GGMLType(.q8_0)!, offset: 48160 - 4480, byteCount: 52224))
        let q4 = try GGUFFile(path: GGUFFixture.path("tiny-q4_0-embd-q8_0.gguf"))
        #expect(q4["general.file_type"] == .uint32(2))
        #expect(q4.tensor(named: "blk.3.ffn_down.weight")?.type.name == "Q4_0" && q4.tensor(named: "token_embd.weight")?.type.name == "Q8_0")
    }

    @Test func testGPT2ByteLevel_spellsBytesAsGPT2Does() {
        #expect(GPT2ByteLevel.spell("\n") == "Ċ" && GPT2ByteLevel.spell(" ") == "Ġ" && GPT2ByteLevel.spell("a") == "a")
        #expect(GPT2ByteLevel.spell("é") == "Ã©")   // UTF-8 C3 A9
        #expect(Set(GPT2ByteLevel.scalarOfByte).count == 256)
        for scalar in ["\n", " ", "~", "é", "€", "😀"].map({ Unicode.Scalar($0)! }) {
            #expect(GPT2ByteLevel.text(of: GPT2ByteLevel.spell(scalar)) == String(scalar))
        }
        #expect(GPT2ByteLevel.text(of: "Ā") != nil && GPT2ByteLevel.text(of: "\u{2603}") == nil)
    }
}
