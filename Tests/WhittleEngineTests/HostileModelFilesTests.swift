// Model directories and configs of any content: config.json and tokenizer.json whose numbers are
// replaced by hostile values (zero, negative, 2^20, 2^31, 2^62, 1e300, fractions) and TOML configs
// whose values are replaced the same way or whose bytes are mutated. Every outcome is a loaded
// model or a typed WhittleError; nothing traps, and no model larger than the budget the loads were
// given is ever allocated (the budget check comes before GPTModel's arena and any tensor).

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite(.serialized) struct HostileModelFilesTests {
    static let hostileNumbers = ["0", "-1", "1048576", "1048577", "2147483648", "4611686018427387904", "1e300", "0.5", "-0", "65536"]
    /// What a single load may allocate here; the tiny model needs a few hundred kilobytes.
    static let budget = ResourceBudget(availableBytes: 64 * 1024 * 1024, source: "test")

    /// Every way of replacing one number of `text` by one hostile value (seeded sample of `count`).
    static func variants(of text: String, count: Int, seed: UInt64) -> [String] {
        let regex = try! NSRegularExpression(pattern: "-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?")
        let matches = regex.matches(in: text, range: NSRange(text.startIndex..., in: text))
        var rng = SeededGenerator(state: seed)
        return (0..<count).compactMap { _ in
            guard let match = matches.randomElement(using: &rng), let range = Range(match.range, in: text) else { return nil }
            var copy = text
            copy.replaceSubrange(range, with: hostileNumbers.randomElement(using: &rng)!)
            return copy
        }
    }

    static func writeTinyModel(to directory: String) throws -> [String: [UInt8]] {
        let model = try GPTModel(config: TinyTraining.shape().modelConfig(vocabularySize: 10))
        let tokenizer = CharTokenizer(text: "hello, world\n")
        var files: [String: [UInt8]] = [:]
        for file in try ModelDirectory.files(model: model, tokenizer: tokenizer) {
            try FileIO.writeFile(file.bytes, to: directory + "/" + file.name, sync: false)
            files[file.name] = file.bytes
        }
        return files
    }

    @Test(arguments: [ModelDirectory.configName, ModelDirectory.tokenizerName])
    func testModelDirectory_hostileNumbersInItsJSONFilesNeverTrapOrOverAllocate(file: String) throws {
        let directory = TemporaryDirectory()
        let files = try Self.writeTinyModel(to: directory.path)
        _ = try ModelDirectory.load(directory.path, budget: Self.budget)   // the unchanged directory loads
        var loaded = 0, rejected = 0
        for variant in Self.variants(of: String(decoding: files[file]!, as: UTF8.self), count: 300, seed: 11) {
            try FileIO.writeFile(Array(variant.utf8), to: directory.path + "/" + file, sync: false)
            do {
                let model = try ModelDirectory.load(directory.path, budget: Self.budget).model
                #expect(Double(model.layout.byteCount) <= Self.budget.limitBytes, "loaded beyond the budget: \(variant.prefix(300))")
                loaded += 1
            } catch is WhittleError {
                rejected += 1
            }
        }
        #expect(rejected > 0 && loaded + rejected == 300)
    }

    @Test func testTOML_hostileValuesAndMutatedBytesNeverTrap() throws {
        let shipped = try String(contentsOf: Repository.root.appendingPathComponent("configs/shakespeare-char-cpu.toml"), encoding: .utf8)
        var texts = Self.variants(of: shipped, count: 400, seed: 5)
        var rng = SeededGenerator(state: 9)
        for _ in 0..<400 { texts.append(String(decoding: HostileInputFuzzTests.mutate(Array(shipped.utf8), &rng), as: UTF8.self)) }
        texts += ["n_layer = 2\nn_layer = 3\n", "[model]\nn_layer = 2\n", "n_layer = [1, 2]\n", "learning_rate = nan\n",
                  "learning_rate = inf\n", "seed = -1\n", "n_embd = 99999999999999999999\n", "dataset = \"\"\n", "\u{0}\u{FF}",
                  String(repeating: "[", count: 10_000), "a = " + String(repeating: "{", count: 10_000),
                  "[\u{7}]\n", "[\u{1}", "x\u{7F} = 1", "[[\n", "  [[[", "a = 1\n[[ ]]"]   // toml++ aborted on these
        var accepted = 0, rejected = 0
        for text in texts {
            do {
                let config = try TrainingConfig(toml: text, source: "fuzz.toml")
                try config.validate()
                try config.checkBudget(model: config.modelConfig(vocabularySize: 65), confirmedLong: true,
                                       budget: ResourceBudgetTests.sixteenGiB)
                accepted += 1
            } catch is WhittleError {
                rejected += 1
            }
        }
        #expect(accepted > 0 && rejected > 0 && accepted + rejected == texts.count)
    }
}
