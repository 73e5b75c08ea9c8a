import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct CorpusTests {
    /// Writes `bytes` to `corpus.txt` in `directory` and returns its path.
    static func file(_ bytes: [UInt8], in directory: TemporaryDirectory) throws -> String {
        let path = directory.path("corpus.txt")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func error(loading path: String) -> WhittleError? {
        do {
            _ = try Corpus.load(path: path)
            return nil
        } catch {
            return error as? WhittleError
        }
    }

    @Test func testCorpus_loadsUTF8Text() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-corpus")
        let path = try Self.file(Array("héllo\r\nwörld\n".utf8), in: scratch)
        #expect(try Corpus.load(path: path) == "héllo\r\nwörld\n")
    }

    @Test func testCorpus_missingFileIsIOErrorWithPath() throws {
        let error = try #require(Self.error(loading: "/nonexistent/whittle/input.txt"))
        #expect(error.kind == .io)
        #expect(error.message.contains("/nonexistent/whittle/input.txt"))
        #expect(error.message.contains("No such file or directory"))
        #expect(error.hint.contains("check the path"))
    }

    /// /dev/null, a directory or a FIFO is named as what it is, not as "Is a directory".
    @Test(arguments: [("/dev/null", "a device"), ("/tmp", "a directory")])
    func testCorpus_nonRegularFileSaysWhatItIs(path: String, kind: String) throws {
        let error = try #require(Self.error(loading: path))
        #expect(error.kind == .io)
        #expect(error.message.contains("it is \(kind), not a regular file"), "\(error)")
        #expect(!error.message.contains("Is a directory") || kind == "a directory")
    }

    @Test func testCorpus_emptyFileIsDataError() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-corpus")
        let path = try Self.file([], in: scratch)
        let error = try #require(Self.error(loading: path))
        #expect(error.kind == .invalidData)
        #expect(error.message.contains("is empty"))
    }

    @Test func testCorpus_invalidUTF8NamesOffsetLineAndColumn() throws {
        // "ab\nçd" then a Latin-1 'é' (0xE9) alone: offset 6, line 2, column 3 (ç is 2 bytes, 1 column).
        let scratch = TemporaryDirectory(prefix: "whittle-corpus")
        let path = try Self.file(Array("ab\nçd".utf8) + [0xE9, 0x41], in: scratch)
        let error = try #require(Self.error(loading: path))
        #expect(error.kind == .invalidData)
        #expect(error.message.contains("byte 0xE9 at offset 6 (line 2, column 3)"), "\(error.message)")
        #expect(error.hint.contains("iconv -f latin1 -t utf-8"))
    }

    @Test func testCorpus_rejectsOverlongAndSurrogateEncodings() {
        #expect(UTF8Validation.firstInvalidOffset(in: [0x41, 0xC0, 0x80]) == 1)          // overlong NUL
        #expect(UTF8Validation.firstInvalidOffset(in: [0xED, 0xA0, 0x80]) == 0)          // surrogate U+D800
        #expect(UTF8Validation.firstInvalidOffset(in: [0xF4, 0x90, 0x80, 0x80]) == 0)    // above U+10FFFF
        #expect(UTF8Validation.firstInvalidOffset(in: [0x61, 0xE2, 0x82]) == 1)          // truncated sequence
        #expect(UTF8Validation.firstInvalidOffset(in: Array("ok €😀".utf8)) == nil)
    }

    @Test func testTokenSplits_matchesNanoGPTNinetyPercentCut() {
        let tokens = (0..<1_115_394).map { Int32($0 % 65) }
        let splits = TokenSplits.split(tokens)
        #expect(splits.train.count == 1_003_854)          // int(1115394 * 0.9)
        #expect(splits.validation.count == 1_115_394 - 1_003_854)
        #expect(splits.train + splits.validation == tokens)
        let small = TokenSplits.split(Array(0..<15), validationFraction: 0.2)
        #expect(small.train == Array(0..<12))
        #expect(small.validation == [12, 13, 14])
    }

    @Test func testTokenSplits_checkLongEnoughNamesTheShortSplit() {
        let splits = TokenSplits.split((0..<100).map { Int32($0) })   // 90 train, 10 validation
        #expect(throws: Never.self) { try TokenSplits.checkLongEnough(splits, contextLength: 8) }
        do {
            try TokenSplits.checkLongEnough(splits, contextLength: 9)
            Issue.record("a 10-token validation split passed for context 9")
        } catch let error as WhittleError {
            #expect(error.kind == .invalidData)
            #expect(error.message.contains("validation split has 10 tokens"))
            #expect(error.message.contains("needs at least 11"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        do {
            try TokenSplits.checkLongEnough(TokenSplits(train: [1, 2], validation: Array(repeating: 0, count: 50)), contextLength: 4)
            Issue.record("a 2-token training split passed")
        } catch let error as WhittleError {
            #expect(error.message.contains("training split has 2 tokens"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
