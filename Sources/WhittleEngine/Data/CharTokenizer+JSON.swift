// `CharTokenizer` as a Hugging Face `tokenizers` file (`tokenizer.json`): a WordLevel model
// whose vocabulary is the character set, a pre-tokenizer that isolates every character, and a
// Fuse decoder. Other tools (`tokenizers.Tokenizer.from_file`) can read it and get the same
// ids as nanoGPT's char-level encoding.

extension CharTokenizer {
    /// The tokenizer as `tokenizer.json`. `unk_token` is "<unk>", which is not in the vocabulary
    /// (adding it would shift nanoGPT's ids), so other tools reject unknown characters too.
    public func tokenizerJSON() -> [UInt8] {
        let vocab = JSONValue.object(symbols.enumerated().map { JSONValue.Member(String($0.element), .int($0.offset)) })
        let document = JSONValue.object([
            .init("version", .string("1.0")),
            .init("truncation", .null),
            .init("padding", .null),
            .init("added_tokens", .array([])),
            .init("normalizer", .null),
            .init("pre_tokenizer", .object([
                .init("type", .string("Split")),
                .init("pattern", .object([.init("Regex", .string("[\\s\\S]"))])),
                .init("behavior", .string("Isolated")),
                .init("invert", .bool(false)),
            ])),
            .init("post_processor", .null),
            .init("decoder", .object([.init("type", .string("Fuse"))])),
            .init("model", .object([
                .init("type", .string("WordLevel")),
                .init("vocab", vocab),
                .init("unk_token", .string("<unk>")),
            ])),
        ])
        return Array((document.serialized(indent: 2) + "\n").utf8)
    }

    /// Reads a `tokenizer.json` written by `tokenizerJSON()` (or any WordLevel tokenizer whose
    /// vocabulary is single characters). Throws `.file` unless every key of `model.vocab` is
    /// exactly one Unicode scalar and the ids are exactly 0..<V, each used once.
    public init(tokenizerJSON bytes: [UInt8]) throws {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch let error as WhittleError {
            throw WhittleError.file("tokenizer.json is not valid JSON: \(error.message)", hint: error.hint)
        }
        let hint = "tokenizer.json must hold a character-level WordLevel model written by Whittle"
        guard json["model"]?["type"]?.stringValue == "WordLevel" else {
            throw WhittleError.file("tokenizer.json has no WordLevel model", hint: hint)
        }
        guard case .object(let members)? = json["model"]?["vocab"] else {
            throw WhittleError.file("tokenizer.json model.vocab is missing or not an object", hint: hint)
        }
        var slots = [Unicode.Scalar?](repeating: nil, count: members.count)
        for member in members {
            let scalars = Array(member.key.unicodeScalars)
            guard scalars.count == 1 else {
                throw WhittleError.file("tokenizer.json vocabulary entry \"\(member.key)\" is not exactly one character", hint: hint)
            }
            guard let id = member.value.intValue, id >= 0, id < members.count else {
                throw WhittleError.file("tokenizer.json id \(member.value.serialized()) of \(Self.describe(scalars[0])) is not an integer in 0..<\(members.count)",
                                        hint: "ids must be dense: 0 to vocabulary size - 1")
            }
            guard slots[id] == nil else {
                throw WhittleError.file("tokenizer.json gives id \(id) to both \(Self.describe(slots[id]!)) and \(Self.describe(scalars[0]))",
                                        hint: "every id must be used exactly once")
            }
            slots[id] = scalars[0]
        }
        // Every id is in range and unique and there are as many ids as slots, so all are filled.
        do {
            try self.init(symbols: slots.compactMap { $0 })
        } catch let error as WhittleError {
            throw WhittleError.file("tokenizer.json: \(error.message)", hint: error.hint)
        }
    }
}
