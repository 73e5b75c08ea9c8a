// Character-level tokenizer in the manner of nanoGPT's shakespeare_char: the vocabulary is
// the sorted set of distinct Unicode scalars of the training text (Python's
// `sorted(set(text))` over code points), and a token id is a scalar's rank in that set.
// Scalars, not grapheme clusters, so "\r\n" is two tokens and ids match nanoGPT's exactly.

/// Maps Unicode scalars to dense token ids `0..<vocabularySize` and back.
public struct CharTokenizer: Equatable, Sendable {
    /// The vocabulary; a symbol's index is its token id.
    public let symbols: [Unicode.Scalar]
    private let ids: [Unicode.Scalar: Int32]

    /// The vocabulary of `text`: its distinct scalars sorted by code point.
    public init(text: String) {
        let distinct = Set(text.unicodeScalars)
        self.symbols = distinct.sorted { $0.value < $1.value }
        self.ids = Self.index(symbols)
    }

    /// A tokenizer with exactly these symbols in this order (id = position).
    /// Throws `.data` if a symbol repeats.
    public init(symbols: [Unicode.Scalar]) throws {
        var seen = Set<Unicode.Scalar>()
        for symbol in symbols where !seen.insert(symbol).inserted {
            throw WhittleError.data("tokenizer vocabulary lists \(Self.describe(symbol)) twice",
                                    hint: "each symbol may appear once; rebuild the tokenizer from the corpus")
        }
        self.symbols = symbols
        self.ids = Self.index(symbols)
    }

    private static func index(_ symbols: [Unicode.Scalar]) -> [Unicode.Scalar: Int32] {
        var ids: [Unicode.Scalar: Int32] = [:]
        for (id, symbol) in symbols.enumerated() { ids[symbol] = Int32(id) }
        return ids
    }

    /// Number of distinct token ids.
    public var vocabularySize: Int { symbols.count }

    /// The token id of every scalar of `text`. Throws `.data` listing the scalars that are not
    /// in the vocabulary (up to 10, with counts and the 0-based scalar offset of the first).
    public func encode(_ text: String) throws -> [Int32] {
        var tokens: [Int32] = []
        tokens.reserveCapacity(text.unicodeScalars.count)
        var unknown: [Unicode.Scalar: (count: Int, first: Int)] = [:]
        for (position, scalar) in text.unicodeScalars.enumerated() {
            if let id = ids[scalar] {
                tokens.append(id)
            } else {
                unknown[scalar, default: (0, position)].count += 1
            }
        }
        guard unknown.isEmpty else { throw unknownError(unknown) }
        return tokens
    }

    /// The token ids of `text`, dropping scalars not in the vocabulary; `skipped` counts them.
    public func encode(_ text: String, skipUnknown: Bool) -> (tokens: [Int32], skipped: Int) {
        var tokens: [Int32] = []
        var skipped = 0
        for scalar in text.unicodeScalars {
            if let id = ids[scalar] { tokens.append(id) } else { skipped += 1 }
        }
        return (tokens, skipped)
    }

    /// The text of `tokens`; an id outside the vocabulary becomes U+FFFD.
    public func decode(_ tokens: [Int32]) -> String {
        var scalars = String.UnicodeScalarView()
        for token in tokens {
            scalars.append(token >= 0 && Int(token) < symbols.count ? symbols[Int(token)] : "\u{FFFD}")
        }
        return String(scalars)
    }

    private func unknownError(_ unknown: [Unicode.Scalar: (count: Int, first: Int)]) -> WhittleError {
        let ordered = unknown.sorted { $0.value.first < $1.value.first }
        let total = ordered.reduce(0) { $0 + $1.value.count }
        var listed = ordered.prefix(10).map { "\(Self.describe($0.key)) ×\($0.value.count), first at offset \($0.value.first)" }
        if ordered.count > 10 { listed.append("and \(ordered.count - 10) more") }
        return .data("the text has \(total) occurrence\(total == 1 ? "" : "s") of \(ordered.count) character\(ordered.count == 1 ? "" : "s") not in the tokenizer's \(vocabularySize)-symbol vocabulary: \(listed.joined(separator: "; "))",
                     hint: "use text made of the training corpus's characters, or pass skipUnknown (--skip-unknown) to drop unknown characters")
    }

    /// A scalar for messages: `'é' (U+00E9)`, with control and invisible characters escaped (`'\n' (U+000A)`).
    public static func describe(_ scalar: Unicode.Scalar) -> String {
        var hex = String(scalar.value, radix: 16, uppercase: true)
        if hex.count < 4 { hex = String(repeating: "0", count: 4 - hex.count) + hex }
        let shown: String
        switch scalar {
        case "\n": shown = "\\n"
        case "\r": shown = "\\r"
        case "\t": shown = "\\t"
        case _ where scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format
            || scalar.properties.generalCategory == .unassigned || scalar.properties.generalCategory == .surrogate
            || scalar.properties.generalCategory == .privateUse || scalar.properties.isWhitespace && scalar != " ":
            shown = "\\u{\(hex)}"
        default: shown = String(scalar)
        }
        return "'\(shown)' (U+\(hex))"
    }
}
