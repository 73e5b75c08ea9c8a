import Testing
@testable import WhittleEngine

@Suite struct CharTokenizerTests {
    /// `sorted(set(open('input.txt').read()))` of nanoGPT's tinyshakespeare, as Python prints it.
    static let shakespeareSymbols = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

    @Test func testCharTokenizer_matchesNanoGPTShakespeareVocabulary() throws {
        // Any text using exactly these characters, in a scrambled order, gives nanoGPT's ids.
        let text = "First Citizen:\nBefore we proceed any further, hear me speak.\n" + String(Self.shakespeareSymbols.reversed())
        let tokenizer = CharTokenizer(text: text)
        #expect(tokenizer.vocabularySize == 65)
        #expect(Array(tokenizer.symbols.prefix(3)) == ["\n", " ", "!"])
        #expect(String(String.UnicodeScalarView(tokenizer.symbols)) == Self.shakespeareSymbols)
        // nanoGPT: stoi['F'] = 18, stoi['i'] = 47, stoi['\n'] = 0, stoi['z'] = 64.
        #expect(try tokenizer.encode("Fi\nz") == [18, 47, 0, 64])
        #expect(tokenizer.decode(try tokenizer.encode(text)) == text)
    }

    @Test func testCharTokenizer_usesScalarsNotGraphemes() throws {
        let tokenizer = CharTokenizer(text: "a\r\nb e\u{301}")
        #expect(tokenizer.vocabularySize == 7)
        #expect(try tokenizer.encode("\r\n").count == 2)
        #expect(try tokenizer.encode("e\u{301}") == [5, 6])
    }

    @Test func testCharTokenizer_unknownCharactersErrorNamesThem() {
        let tokenizer = CharTokenizer(text: "abc ")
        do {
            _ = try tokenizer.encode("ab é\tcé")
            Issue.record("unknown characters accepted")
        } catch let error as WhittleError {
            #expect(error.kind == .invalidData)
            #expect(error.message.contains("'é' (U+00E9) ×2, first at offset 3"))
            #expect(error.message.contains("'\\t' (U+0009) ×1, first at offset 4"))
            #expect(error.message.contains("3 occurrences of 2 characters"))
            #expect(error.hint.contains("skipUnknown"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func testCharTokenizer_unknownCharactersListIsCapped() {
        let tokenizer = CharTokenizer(text: "a")
        do {
            _ = try tokenizer.encode("bcdefghijklmnop")
        } catch let error as WhittleError {
            #expect(error.message.contains("and 5 more"))
            #expect(!error.message.contains("'l'"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func testCharTokenizer_skipUnknownDropsAndCounts() {
        let tokenizer = CharTokenizer(text: "ab")
        let result = tokenizer.encode("axbyyb", skipUnknown: true)
        #expect(result.tokens == [0, 1, 1])
        #expect(result.skipped == 3)
    }

    @Test func testCharTokenizer_decodeReplacesOutOfRangeIds() {
        #expect(CharTokenizer(text: "ab").decode([0, 7, -1, 1]) == "a\u{FFFD}\u{FFFD}b")
    }

    @Test func testCharTokenizer_symbolsInitRejectsDuplicates() {
        #expect(throws: WhittleError.self) { try CharTokenizer(symbols: ["a", "b", "a"]) }
    }

    @Test func testCharTokenizer_jsonRoundTripKeepsIds() throws {
        // Includes characters JSON must escape and two canonically equivalent scalars (Å, Å).
        let tokenizer = CharTokenizer(text: Self.shakespeareSymbols + "\"\\\t\r\u{7}é😀\u{212B}\u{C5}")
        let json = tokenizer.tokenizerJSON()
        let decoded = try CharTokenizer(tokenizerJSON: json)
        #expect(decoded == tokenizer)
        let parsed = try JSONValue.parse(json)
        #expect(parsed["model"]?["type"]?.stringValue == "WordLevel")
        // Sorted by code point: U+0007, \t, \n, \r, " ", ...
        #expect(parsed["model"]?["vocab"]?["\u{7}"]?.intValue == 0)
        #expect(parsed["model"]?["vocab"]?["\n"]?.intValue == 2)
        #expect(parsed["model"]?["vocab"]?[" "]?.intValue == 4)
        #expect(tokenizer.vocabularySize == 65 + 9)   // both Å scalars kept apart
        #expect(parsed["model"]?["vocab"]?["<unk>"] == nil)
        #expect(parsed["decoder"]?["type"]?.stringValue == "Fuse")
        #expect(parsed["version"]?.stringValue == "1.0")
    }

    @Test func testCharTokenizer_jsonReaderRejectsBadVocabularies() {
        func document(_ vocab: String) -> [UInt8] { Array(#"{"model": {"type": "WordLevel", "vocab": \#(vocab)}}"#.utf8) }
        let cases: [(String, String)] = [
            (#"{"a": 0, "bc": 1}"#, "not exactly one character"),
            (#"{"a": 0, "b": 2}"#, "not an integer in 0..<2"),
            (#"{"a": 0, "b": 0}"#, "both"),
            (#"{"a": 0, "b": -1}"#, "not an integer"),
            (#"{"a": 0, "b": "1"}"#, "not an integer"),
            (#"{"a": 0, "a": 1}"#, "duplicate key"),
            (#"[]"#, "not an object"),
        ]
        for (vocab, phrase) in cases {
            do {
                _ = try CharTokenizer(tokenizerJSON: document(vocab))
                Issue.record("accepted \(vocab)")
            } catch let error as WhittleError {
                #expect(error.kind == .invalidFile)
                #expect(error.message.contains(phrase), "message: \(error.message)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        #expect(throws: WhittleError.self) { try CharTokenizer(tokenizerJSON: Array(#"{"model": {"type": "BPE"}}"#.utf8)) }
    }
}
