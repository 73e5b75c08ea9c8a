import Foundation
import Testing
@testable import WhittleEngine

/// Locates the checked-in fixture directory.
func fixturePath(_ relative: String) -> String {
    let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    return root.appendingPathComponent(relative).path
}

@Suite struct SafetensorsTests {
    /// A file with a hand-written header and `dataLength` data bytes, for hostile cases.
    static func file(header: String, dataLength: Int, declaredLength: UInt64? = nil) -> [UInt8] {
        let json = Array(header.utf8)
        let length = declaredLength ?? UInt64(json.count)
        var out = (0..<8).map { UInt8(truncatingIfNeeded: length >> UInt64(8 * $0)) }
        out += json
        out += [UInt8](repeating: 0, count: dataLength)
        return out
    }

    static func expectInvalid(_ bytes: [UInt8], mentioning phrase: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try SafetensorsFile(bytes: bytes)
            Issue.record("accepted a file that should mention '\(phrase)'", sourceLocation: sourceLocation)
        } catch let error as WhittleError {
            #expect(error.kind == .invalidFile, sourceLocation: sourceLocation)
            #expect(error.message.contains(phrase), "message: \(error.message)", sourceLocation: sourceLocation)
            #expect(!error.hint.isEmpty, sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    static let small: [UInt8] = try! SafetensorsWriter.serialize(
        tensors: [("b", [2], [1.5, -2]), ("a", [1, 3], [0, .infinity, 3.25]), ("scalar", [], [7])],
        metadata: ["format": "pt", "step": "12"])

    @Test func testSafetensors_roundTripKeepsValuesOrderAndMetadata() throws {
        let file = try SafetensorsFile(bytes: Self.small)
        #expect(file.tensorNames == ["b", "a", "scalar"])
        #expect(file.metadata == ["format": "pt", "step": "12"])
        #expect(try file.floats("b") == [1.5, -2])
        #expect(try file.floats("a") == [0, .infinity, 3.25])
        #expect(try file.floats("scalar") == [7])
        #expect(file.info("a")?.shape == [1, 3])
        #expect(file.info("a")?.dataType == .f32)
        #expect(file.info("missing") == nil)
    }

    @Test func testSafetensorsWriter_padsHeaderToMultipleOfEight() {
        var length = 0
        for i in (0..<8).reversed() { length = length << 8 | Int(Self.small[i]) }
        #expect(length % 8 == 0)
        #expect(Self.small[8] == UInt8(ascii: "{"))
    }

    @Test func testSafetensorsWriter_rejectsShapeMismatchAndDuplicates() {
        #expect(throws: WhittleError.self) { try SafetensorsWriter.serialize(tensors: [("x", [2, 2], [1, 2, 3])]) }
        #expect(throws: WhittleError.self) { try SafetensorsWriter.serialize(tensors: [("x", [1], [1]), ("x", [1], [2])]) }
    }

    @Test func testSafetensors_readsHuggingFaceModelFixture() throws {
        let file = try SafetensorsFile(path: fixturePath("gpt2-tiny-reference/model.safetensors"))
        #expect(file.metadata == ["format": "pt"])
        #expect(file.tensorNames.count == 28)
        let info = try #require(file.info("transformer.wte.weight"))
        #expect(info.shape == [65, 32])
        #expect(info.dataType == .f32)
        let wte = try file.floats("transformer.wte.weight")
        #expect(wte.count == 65 * 32)
        #expect(Array(wte.prefix(3)) == [0.004810690879821777, 0.019927266985177994, -0.006000968627631664])
        #expect(file.info("transformer.h.0.attn.c_attn.weight")?.shape == [32, 96])
    }

    @Test func testSafetensors_readsExpectedOutputsFixture() throws {
        let file = try SafetensorsFile(path: fixturePath("gpt2-tiny-reference/expected.safetensors"))
        #expect(file.info("logits")?.shape == [2, 8, 65])
        #expect(try file.floats("loss") == [4.227046489715576])
        #expect(file.tensorNames.filter { $0.hasPrefix("grad.") }.count == 28)
    }

    @Test func testSafetensors_convertsHalfBFloatAndDouble() throws {
        let tensors = [
            SafetensorsWriter.RawTensor(name: "h", dataType: .f16, shape: [4], bytes: [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x00, 0x7C]),
            SafetensorsWriter.RawTensor(name: "b", dataType: .bf16, shape: [1], bytes: [0xC0, 0x3F]),
            SafetensorsWriter.RawTensor(name: "d", dataType: .f64, shape: [1], bytes: [0, 0, 0, 0, 0, 0, 0xF8, 0x3F]),
            SafetensorsWriter.RawTensor(name: "i", dataType: .i32, shape: [1], bytes: [1, 0, 0, 0]),
        ]
        let file = try SafetensorsFile(bytes: try SafetensorsWriter.serialize(tensors))
        #expect(try file.floats("h") == [1, -2, 0x1p-24, .infinity])
        #expect(try file.floats("b") == [1.5])
        #expect(try file.floats("d") == [1.5])
        #expect(throws: WhittleError.self) { try file.floats("i") }
        #expect(throws: WhittleError.self) { try file.floats("nope") }
    }

    @Test func testSafetensors_rejectsTruncationAtEveryPrefixLength() {
        for length in 0..<Self.small.count {
            #expect(throws: WhittleError.self, "prefix of \(length) bytes") {
                try SafetensorsFile(bytes: Array(Self.small[..<length]))
            }
        }
    }

    @Test func testSafetensors_rejectsShortFile() {
        Self.expectInvalid([1, 0, 0], mentioning: "shorter than the 8-byte header length")
    }

    @Test func testSafetensors_rejectsOversizedHeader() {
        Self.expectInvalid(Self.file(header: "{}", dataLength: 0, declaredLength: 100_000_001), mentioning: "exceeds the limit")
        Self.expectInvalid(Self.file(header: "{}", dataLength: 0, declaredLength: UInt64.max), mentioning: "exceeds the limit")
    }

    @Test func testSafetensors_rejectsHeaderLongerThanFile() {
        Self.expectInvalid(Self.file(header: "{}", dataLength: 0, declaredLength: 64), mentioning: "runs past the end")
    }

    @Test func testSafetensors_rejectsOverlappingOffsets() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        Self.expectInvalid(Self.file(header: header, dataLength: 12), mentioning: "overlaps")
    }

    @Test func testSafetensors_rejectsGappedOffsets() {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        Self.expectInvalid(Self.file(header: header, dataLength: 12), mentioning: "gap")
        let late = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        Self.expectInvalid(Self.file(header: late, dataLength: 8), mentioning: "gap")
    }

    @Test func testSafetensors_rejectsOffsetsOutsideTheFile() {
        let header = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        Self.expectInvalid(Self.file(header: header, dataLength: 8), mentioning: "truncated or offsets out of the file")
        let huge = #"{"a":{"dtype":"U8","shape":[9223372036854775807],"data_offsets":[0,9223372036854775807]}}"#
        Self.expectInvalid(Self.file(header: huge, dataLength: 8), mentioning: "out of the file")
    }

    @Test func testSafetensors_rejectsTrailingBytes() {
        Self.expectInvalid(Self.small + [0], mentioning: "trailing bytes")
    }

    @Test func testSafetensors_rejectsShapeDtypeMismatch() {
        let header = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        Self.expectInvalid(Self.file(header: header, dataLength: 8), mentioning: "needs 12")
    }

    @Test func testSafetensors_rejectsElementCountOverflow() {
        let header = #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#
        Self.expectInvalid(Self.file(header: header, dataLength: 8), mentioning: "overflow")
    }

    @Test func testSafetensors_rejectsDuplicateNames() {
        let header = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
        Self.expectInvalid(Self.file(header: header, dataLength: 2), mentioning: "duplicate key")
    }

    @Test func testSafetensors_rejectsBadDtype() {
        let header = #"{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#
        Self.expectInvalid(Self.file(header: header, dataLength: 4), mentioning: "unknown dtype \"F33\"")
    }

    @Test func testSafetensors_rejectsNonUTF8Header() {
        var bytes = Self.file(header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, dataLength: 1)
        bytes[10] = 0xFF
        Self.expectInvalid(bytes, mentioning: "not valid UTF-8")
    }

    @Test func testSafetensors_rejectsWrongSchema() {
        let cases: [(String, String)] = [
            (#"[1]"#, "does not start with '{'"),
            (#"{"a":1}"#, "not an object"),
            (#"{"a":{"shape":[1],"data_offsets":[0,1]}}"#, "no dtype"),
            (#"{"a":{"dtype":"U8","data_offsets":[0,1]}}"#, "no shape"),
            (#"{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}"#, "not a non-negative integer"),
            (#"{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}"#, "not a non-negative integer"),
            (#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}"#, "not 2"),
            (#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}"#, "before begin"),
            (#"{"__metadata__":{"k":1}}"#, "not a string"),
            (#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}"#, "not valid JSON"),
        ]
        for (header, phrase) in cases {
            Self.expectInvalid(Self.file(header: header, dataLength: 1), mentioning: phrase)
        }
    }

    @Test func testSafetensors_missingFileIsIOError() {
        #expect(throws: WhittleError.self) { try SafetensorsFile(path: "/nonexistent/whittle/model.safetensors") }
        do {
            _ = try SafetensorsFile(path: "/nonexistent/whittle/model.safetensors")
        } catch let error as WhittleError {
            #expect(error.kind == .io)
            #expect(error.message.contains("/nonexistent/whittle/model.safetensors"))
            #expect(error.message.contains("No such file"))
        } catch {}
    }
}
