// Loading a training corpus and cutting its tokens into training and validation parts the
// way nanoGPT's prepare scripts do (first 90% train, rest validation). Bad corpora are
// refused up front with a position the user can look at (notes/reliability.md §5).

/// A text corpus on disk.
public enum Corpus {
    /// Reads `path` as UTF-8 text. Throws `.io` if it cannot be read, `.data` if it is empty or
    /// not valid UTF-8 (naming the byte offset, line and column of the first bad byte).
    public static func load(path: String) throws -> String {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path)
        } catch let error as WhittleError {
            throw WhittleError(error.kind, "cannot read the corpus: \(error.message)", hint: error.hint)
        }
        guard !bytes.isEmpty else {
            throw WhittleError.data("corpus '\(path)' is empty", hint: "give a text file with some training text")
        }
        if let offset = UTF8Validation.firstInvalidOffset(in: bytes) {
            let (line, column) = position(of: offset, in: bytes)
            let shown = String(bytes[offset], radix: 16, uppercase: true)
            throw WhittleError.data(
                "corpus '\(path)' is not valid UTF-8: byte 0x\(shown.count < 2 ? "0" + shown : shown) at offset \(offset) (line \(line), column \(column))",
                hint: "re-encode the file as UTF-8, e.g. iconv -f latin1 -t utf-8 '\(path)' > corpus-utf8.txt")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// 1-based line and column (in characters, i.e. Unicode scalars) of byte `offset`; the bytes
    /// before `offset` are valid UTF-8.
    static func position(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in bytes[..<offset] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1     // count lead bytes only: one per scalar
            }
        }
        return (line, column)
    }
}

/// A corpus's tokens split into a training part and a validation part.
public struct TokenSplits: Equatable, Sendable {
    public let train: [Int32]
    public let validation: [Int32]

    public init(train: [Int32], validation: [Int32]) {
        self.train = train
        self.validation = validation
    }

    /// nanoGPT's split: the first `Int(n × (1 − validationFraction))` tokens train, the rest
    /// validate (`data[:int(n*0.9)]`, `data[int(n*0.9):]` for the default 0.1).
    public static func split(_ tokens: [Int32], validationFraction: Double = 0.1) -> TokenSplits {
        let fraction = validationFraction.isFinite ? min(max(validationFraction, 0), 1) : 0.1
        let cut = min(tokens.count, max(0, Int(Double(tokens.count) * (1 - fraction))))
        return TokenSplits(train: Array(tokens[..<cut]), validation: Array(tokens[cut...]))
    }

    /// Throws `.data` unless both parts hold more than `contextLength + 1` tokens, so a batch
    /// of inputs and shifted targets can be cut from each; the error names the part.
    public static func checkLongEnough(_ splits: TokenSplits, contextLength: Int) throws {
        let needed = contextLength + 2
        for (name, part) in [("training", splits.train), ("validation", splits.validation)] where part.count < needed {
            throw WhittleError.data(
                "the \(name) split has \(part.count) tokens; a context length of \(contextLength) needs at least \(needed)",
                hint: "use a longer corpus, a smaller context length (block size), or a different validation fraction")
        }
    }
}
