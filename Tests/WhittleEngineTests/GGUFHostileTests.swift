// Hostile GGUF files: each breaks one rule and must give a typed `.invalidFile` error whose message
// names the problem — never a trap, never an allocation sized from a lying count. Truncation is
// tried at every prefix of a small valid file, and random mutations must never trap.

import Testing
@testable import WhittleEngine

@Suite struct GGUFHostileTests {
    /// The error `bytes` give, or nil if they parse.
    func rejection(_ bytes: [UInt8]) -> WhittleError? {
        do { _ = try GGUFFile(bytes: bytes); return nil } catch let error as WhittleError { return error } catch { return nil }
    }

    func expectRejected(_ bytes: [UInt8], saying words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = rejection(bytes)
        #expect(error?.kind == .invalidFile, "accepted or wrong kind: \(String(describing: error))", sourceLocation: sourceLocation)
        #expect(error?.message.contains(words) == true, "\(error?.message ?? "no error") lacks \"\(words)\"", sourceLocation: sourceLocation)
        #expect(error?.hint.isEmpty == false, sourceLocation: sourceLocation)
    }

    @Test func testGGUF_everyTruncatedPrefixIsRejected() throws {
        let valid = try GGUFFixture.small()
        #expect(rejection(valid) == nil)
        for length in 0..<valid.count {
            #expect(rejection(Array(valid.prefix(length)))?.kind == .invalidFile, "prefix of \(length) bytes")
        }
    }

    @Test func testGGUF_wrongMagicOrVersionIsRejected() {
        expectRejected(RawGGUF(magic: 0x4655_4746).bytes, saying: "magic")
        expectRejected(Array("PK\u{3}\u{4}not a gguf".utf8), saying: "magic")
        expectRejected(RawGGUF(version: 1).bytes, saying: "version 1")
        expectRejected(RawGGUF(version: 4).bytes, saying: "version 4")
        expectRejected(RawGGUF(version: 3 << 24).bytes, saying: "big-endian")
        #expect(rejection(RawGGUF(version: 2).bytes) == nil)
        // A header with nothing after it is a valid, empty file (ggml's HEADER_EMPTY), padded or not.
        #expect(rejection(RawGGUF(keys: []).bytes) == nil && rejection(Array(RawGGUF(keys: []).bytes.prefix(24))) == nil)
    }

    @Test func testGGUF_lengthsPastTheEndAreRejectedBeforeAllocating() {
        // A string that claims 2^62 bytes.
        expectRejected(RawGGUF(keys: [RawGGUF.key("k", type: 8, raw: RawGGUF.le(UInt64(1) << 62) + [65])]).bytes, saying: "declares")
        // A key whose own length runs past the end.
        expectRejected(RawGGUF(keys: [RawGGUF.le(UInt64(1000)) + Array("abc".utf8)]).bytes, saying: "only")
        // Arrays that claim more elements than the file can hold, for a fixed-size and a string element type.
        for element: UInt32 in [0, 8, 12] {
            let raw = RawGGUF.le(element) + RawGGUF.le(UInt64.max / 2) + [1, 2, 3, 4]
            expectRejected(RawGGUF(keys: [RawGGUF.key("a", type: 9, raw: raw)]).bytes, saying: "element count")
        }
        // An array of strings whose third string runs past the end.
        var strings = RawGGUF.le(UInt32(8)) + RawGGUF.le(UInt64(3))
        for text in ["ab", "cd"] { strings += RawGGUF.le(UInt64(2)) + Array(text.utf8) }
        strings += RawGGUF.le(UInt64(40)) + Array("ef".utf8)
        expectRejected(RawGGUF(keys: [RawGGUF.key("a", type: 9, raw: strings)]).bytes, saying: "declares 40 bytes")
    }

    @Test func testGGUF_countsAndDimensionsThatOverflowAreRejected() {
        expectRejected(RawGGUF(tensorCount: .max).bytes, saying: "tensor count")
        expectRejected(RawGGUF(keyCount: .max).bytes, saying: "metadata key count")
        expectRejected(RawGGUF(keyCount: 1 << 40).bytes, saying: "metadata key count")
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [1 << 40, 1 << 40])]).bytes, saying: "overflow")
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [.max])]).bytes, saying: "dimension 0")
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [4, 0])]).bytes, saying: "at least 1")
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [1, 1, 1, 1, 1])]).bytes, saying: "5 dimensions")
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [], rank: 0)]).bytes, saying: "0 dimensions")
        // Huge but not overflowing: the data cannot be in the file.
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [1 << 20, 1 << 20])], data: [UInt8](repeating: 0, count: 64)).bytes,
                       saying: "past the end")
    }

    @Test func testGGUF_offsetsOutsideTheFileOverlappingOrOutOfOrderAreRejected() {
        let data = [UInt8](repeating: 0, count: 64)
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [8])], data: [UInt8](repeating: 0, count: 16)).bytes, saying: "past the end")
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [8], offset: 64)], data: data).bytes, saying: "data offset 64 leaves a gap")
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [8], offset: UInt64.max - 31)], data: data).bytes, saying: "offset")
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [17])], data: data).bytes, saying: "past the end")
        expectRejected(RawGGUF(infos: [RawGGUF.info("a", [16]), RawGGUF.info("b", [8], offset: 32)], data: data + data).bytes,
                       saying: "overlaps")
        expectRejected(RawGGUF(infos: [RawGGUF.info("a", [8]), RawGGUF.info("b", [8])], data: data).bytes, saying: "overlaps")
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [4], offset: 4)], data: data).bytes, saying: "multiple of the alignment")
        // ggml's rule: tensors follow each other in file order, each padded to the alignment.
        expectRejected(RawGGUF(infos: [RawGGUF.info("b", [8], offset: 32), RawGGUF.info("a", [8])], data: data).bytes, saying: "leaves a gap")
        expectRejected(RawGGUF(infos: [RawGGUF.info("a", [8]), RawGGUF.info("b", [8], offset: 64)], data: data + data).bytes,
                       saying: "expected 32")
        expectRejected(RawGGUF(infos: [RawGGUF.info("a", [8])], data: data).bytes, saying: "32 bytes after the last tensor")
        #expect(rejection(RawGGUF(infos: [RawGGUF.info("a", [8]), RawGGUF.info("b", [8], offset: 32)], data: data).bytes) == nil)
        #expect(rejection(RawGGUF(infos: [RawGGUF.info("a", [5])], data: [UInt8](repeating: 0, count: 20)).bytes) == nil)   // no final padding
    }

    @Test func testGGUF_unknownOrMismatchedTypesAreRejected() {
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [8], type: 4)], data: [UInt8](repeating: 0, count: 32)).bytes,
                       saying: "unknown ggml type 4")
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [8], type: 1000)]).bytes, saying: "unknown ggml type 1000")
        expectRejected(RawGGUF(keys: [RawGGUF.key("k", type: 13, raw: [0])]).bytes, saying: "unknown value type 13")
        expectRejected(RawGGUF(keys: [RawGGUF.key("a", type: 9, raw: RawGGUF.le(UInt32(77)) + RawGGUF.le(UInt64(0)))]).bytes,
                       saying: "unknown value type 77")
        expectRejected(RawGGUF(keys: [RawGGUF.key("a", type: 9, raw: RawGGUF.le(UInt32(9)) + RawGGUF.le(UInt64(0)))]).bytes,
                       saying: "array of arrays")
        expectRejected(RawGGUF(keys: [RawGGUF.key("b", type: 7, raw: [2])]).bytes, saying: "not 0 or 1")
        expectRejected(RawGGUF(keys: [RawGGUF.key("s", type: 8, raw: RawGGUF.le(UInt64(2)) + [0xC3, 0x28])]).bytes, saying: "UTF-8")
        expectRejected(RawGGUF(keys: [RawGGUF.key("general.alignment", .string("32"))]).bytes, saying: "not uint32")
        // A Q8_0 matrix relabelled F32 claims 256 bytes where 68 are stored: the next tensor's offset gives it away.
        let data = [UInt8](repeating: 0, count: 128)
        #expect(rejection(RawGGUF(infos: [RawGGUF.info("m", [32, 2], type: 8), RawGGUF.info("v", [8], offset: 96)], data: data).bytes) == nil)
        expectRejected(RawGGUF(infos: [RawGGUF.info("m", [32, 2], type: 0), RawGGUF.info("v", [8], offset: 96)], data: data + data + data).bytes,
                       saying: "expected 256")
        // Q8_0 rows must be whole 32-value blocks.
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [40, 2], type: 8)], data: [UInt8](repeating: 0, count: 96)).bytes,
                       saying: "not whole Q8_0 blocks")
    }

    @Test func testGGUF_badAlignmentIsRejected() {
        for alignment: UInt32 in [0, 24, 48, 1 << 31] {
            expectRejected(RawGGUF(keys: [RawGGUF.key("general.alignment", .uint32(alignment))]).bytes, saying: "power of two")
        }
        // A valid non-default alignment moves the data section.
        var raw = RawGGUF(keys: [RawGGUF.key("general.alignment", .uint32(64))], infos: [RawGGUF.info("w", [16])],
                          data: [UInt8](repeating: 0, count: 64))
        raw.alignment = 64
        #expect(rejection(raw.bytes) == nil)
        raw.alignment = 32   // data placed at a 32-byte boundary that is not a 64-byte one: it is not where the reader looks
        expectRejected(raw.bytes, saying: "past the end")
    }

    @Test func testGGUF_duplicateOrMalformedKeysAndTensorNamesAreRejected() {
        expectRejected(RawGGUF(keys: [RawGGUF.key("k", .uint8(1)), RawGGUF.key("k", .uint8(2))]).bytes, saying: "appears twice")
        expectRejected(RawGGUF(infos: [RawGGUF.info("w", [8]), RawGGUF.info("w", [8], offset: 32)],
                               data: [UInt8](repeating: 0, count: 64)).bytes, saying: "appears twice")
        expectRejected(RawGGUF(infos: [RawGGUF.info(String(repeating: "x", count: 64), [8])], data: [UInt8](repeating: 0, count: 32)).bytes,
                       saying: "longer than")
        expectRejected(RawGGUF(keys: [RawGGUF.key("", .uint8(1))]).bytes, saying: "empty or not printable ASCII")
        expectRejected(RawGGUF(keys: [RawGGUF.key("général.name", .uint8(1))]).bytes, saying: "empty or not printable ASCII")
        expectRejected(RawGGUF(keys: [RawGGUF.key("a b", .uint8(1))]).bytes, saying: "empty or not printable ASCII")
    }

    @Test func testGGUF_mutatedFilesNeverTrap() throws {
        let valid = try GGUFFixture.small()
        var rng = SeededGenerator(state: 2026)
        var rejected = 0, accepted = 0
        for _ in 0..<HostileInputFuzzTests.mutationsPerTest {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) { bytes.removeLast(Int.random(in: 0...40, using: &rng)) }
            do {
                let file = try GGUFFile(bytes: bytes)
                for tensor in file.tensors { _ = file.data(tensor).count }
                _ = try? GPT2GGUF.read(file)
                accepted += 1
            } catch is WhittleError {
                rejected += 1
            }
        }
        #expect(rejected > 0 && accepted > 0)
    }

    @Test func testGPT2GGUF_mutatedModelFilesNeverTrap() throws {
        let config = ModelConfig(layerCount: 1, headCount: 2, embeddingWidth: 32, contextLength: 8, vocabularySize: 40)
        var generator = RandomGenerator(seed: 5)
        let model = try GPTModel.initialized(config: config, generator: &generator)
        let tokenizer = CharTokenizer(text: String(String.UnicodeScalarView((0..<40).map { Unicode.Scalar(UInt8(10 + 3 * $0)) })))
        let store = WeightStore(layout: model.layout, parameters: model.parameters.pointer) { _ in .q8_0 }
        let valid = try GPT2GGUF.serialize(store: store, config: config, tokenizer: tokenizer, name: "fuzz")
        let headerEnd = try GGUFFile(bytes: valid).dataOffset
        var rng = SeededGenerator(state: 99)
        var rejected = 0, accepted = 0
        for _ in 0..<1000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                // Mostly the header (metadata, tensor infos), sometimes the data (Q8_0 scales, floats).
                let end = Bool.random(using: &rng) ? headerEnd : bytes.count
                bytes[Int.random(in: 0..<end, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            do {
                _ = try GPT2GGUF.read(try GGUFFile(bytes: bytes))
                accepted += 1
            } catch is WhittleError {
                rejected += 1
            }
        }
        #expect(rejected > 0 && accepted > 0)
    }
}
