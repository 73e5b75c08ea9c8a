import Testing
@testable import WhittleEngine

/// SplitMix64: a tiny seeded generator so every fuzz run sees the same inputs.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Mutated valid files must be rejected with a `WhittleError` or accepted, never trap.
/// (A trap would crash the test process, so reaching the end is the assertion; the counts
/// check that mutation really produced both outcomes.)
@Suite struct HostileInputFuzzTests {
    static let mutationsPerTest = 3000

    static func mutate(_ bytes: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var out = bytes
        switch Int.random(in: 0..<4, using: &rng) {
        case 0:   // flip a few bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !out.isEmpty {
                out[Int.random(in: 0..<out.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        case 1:   // replace a header byte with a JSON-significant character
            let specials = Array("{}[]\":,0123456789-e.\\ ".utf8)
            if out.count > 8 { out[Int.random(in: 8..<out.count, using: &rng)] = specials.randomElement(using: &rng)! }
        case 2:   // cut or extend
            if Bool.random(using: &rng) { out.removeLast(Int.random(in: 0...out.count, using: &rng)) } else { out += [0, 0, 0] }
        default:  // rewrite the declared header length
            let length = UInt64.random(in: 0...UInt64(out.count + 16), using: &rng)
            for i in 0..<min(8, out.count) { out[i] = UInt8(truncatingIfNeeded: length >> UInt64(8 * i)) }
        }
        return out
    }

    @Test func testSafetensors_mutatedFilesNeverTrap() throws {
        let valid = try SafetensorsWriter.serialize(
            tensors: [("w", [2, 3], [1, 2, 3, 4, 5, 6]), ("b", [3], [0.5, 0.25, 0.125])], metadata: ["k": "v"])
        var rng = SeededGenerator(state: 42)
        var rejected = 0, accepted = 0
        for _ in 0..<Self.mutationsPerTest {
            let bytes = Self.mutate(valid, &rng)
            do {
                let file = try SafetensorsFile(bytes: bytes)
                for name in file.tensorNames { _ = try? file.floats(name) }
                accepted += 1
            } catch is WhittleError {
                rejected += 1
            }
        }
        #expect(rejected > 0 && accepted > 0)
    }

    @Test func testJSONReaders_mutatedDocumentsNeverTrap() throws {
        let config = ModelConfig(layerCount: 2, headCount: 4, embeddingWidth: 32, contextLength: 16, vocabularySize: 65).huggingFaceJSON()
        let tokenizer = CharTokenizer(text: "hello, world\n").tokenizerJSON()
        var rng = SeededGenerator(state: 7)
        var rejected = 0
        for _ in 0..<Self.mutationsPerTest {
            do { _ = try ModelConfig(huggingFaceJSON: Self.mutate(config, &rng)) } catch is WhittleError { rejected += 1 }
            do { _ = try CharTokenizer(tokenizerJSON: Self.mutate(tokenizer, &rng)) } catch is WhittleError { rejected += 1 }
        }
        #expect(rejected > 0)
    }
}
