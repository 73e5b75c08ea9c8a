// `ModelConfig` as a Hugging Face GPT-2 `config.json` (transformers' `GPT2Config`), so a model
// directory written by Whittle loads with `GPT2LMHeadModel.from_pretrained` and a GPT-2
// directory from the Hub loads here. Settings Hugging Face has no key for live in a
// `"whittle"` section that transformers ignores.

extension ModelConfig {
    /// Activation names accepted on read; both are GPT-2's tanh-approximated GELU.
    public static let huggingFaceActivations: Set<String> = ["gelu_new", "gelu_pytorch_tanh"]

    /// Reads a Hugging Face GPT-2 `config.json`. Throws `.file` for JSON or schema problems
    /// (missing or mistyped keys, a model type other than `gpt2`, an unsupported activation,
    /// untied embeddings, an MLP width other than 4 × n_embd), then `.config` from `validate()`.
    public init(huggingFaceJSON bytes: [UInt8]) throws {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch let error as WhittleError {
            throw WhittleError.file("config.json is not valid JSON: \(error.message)", hint: error.hint)
        }
        guard case .object = json else {
            throw WhittleError.file("config.json holds \(json.typeName), not a JSON object", hint: Self.configHint)
        }
        let modelType = try Self.string(json, "model_type", default: nil)
        guard modelType == "gpt2" else {
            throw WhittleError.file("config.json has model_type \"\(modelType ?? "")\"; Whittle reads only \"gpt2\"",
                                    hint: "use a GPT-2 family model directory")
        }
        let activation = try Self.string(json, "activation_function", default: "gelu_new") ?? "gelu_new"
        guard Self.huggingFaceActivations.contains(activation) else {
            throw WhittleError.file("config.json activation_function \"\(activation)\" is not supported",
                                    hint: "Whittle implements GPT-2's tanh GELU: use \"gelu_new\" or \"gelu_pytorch_tanh\"")
        }
        let width = try Self.integer(json, "n_embd")
        let positions: Int
        if json["n_positions"] != nil {
            positions = try Self.integer(json, "n_positions")
        } else {
            positions = try Self.integer(json, "n_ctx")
        }
        if let inner = json["n_inner"], inner != .null {
            let value = try Self.integer(json, "n_inner")
            guard value == 4 * width else {
                throw WhittleError.file("config.json n_inner = \(value) but Whittle's MLP width is 4 × n_embd = \(4 * width)",
                                        hint: "set n_inner to null")
            }
        }
        if let tied = json["tie_word_embeddings"] {
            guard let value = tied.boolValue else { throw Self.wrongType("tie_word_embeddings", tied, "true or false") }
            guard value else {
                throw WhittleError.file("config.json sets tie_word_embeddings to false; Whittle ties the LM head to wte",
                                        hint: "use a model with tied embeddings (every GPT-2 checkpoint is)")
            }
        }
        var epsilon: Float = 1e-5
        if let value = json["layer_norm_epsilon"] {
            guard let number = value.doubleValue else { throw Self.wrongType("layer_norm_epsilon", value, "a number") }
            epsilon = Float(number)
        }
        var bias = true
        if let section = json["whittle"] {
            guard case .object = section else { throw Self.wrongType("whittle", section, "an object") }
            if let value = section["bias"] {
                guard let flag = value.boolValue else { throw Self.wrongType("whittle.bias", value, "true or false") }
                bias = flag
            }
        }
        self.init(layerCount: try Self.integer(json, "n_layer"), headCount: try Self.integer(json, "n_head"),
                  embeddingWidth: width, contextLength: positions,
                  vocabularySize: try Self.integer(json, "vocab_size"), hasBias: bias, layerNormEpsilon: epsilon)
        try validate()
    }

    /// The configuration as a Hugging Face GPT-2 `config.json`: pretty-printed, keys sorted,
    /// dropout keys set to `dropout`, and a `"whittle"` section holding `bias` plus `extra`.
    ///
    /// `bos_token_id` and `eos_token_id` are always written: the given id when it exists in the
    /// vocabulary (0 ..< vocab_size), else `null`. Leaving them out is not enough, because
    /// transformers' `GPT2Config` then falls back to GPT-2's 50256, an id a character vocabulary does
    /// not have (see docs/DECISIONS.md).
    public func huggingFaceJSON(dropout: Double = 0, bosTokenID: Int? = nil, eosTokenID: Int? = nil,
                                extra: [String: JSONValue] = [:]) -> [UInt8] {
        var whittle = extra
        whittle["bias"] = .bool(hasBias)
        var keys: [String: JSONValue] = [
            "model_type": .string("gpt2"),
            "architectures": .array([.string("GPT2LMHeadModel")]),
            "n_embd": .int(embeddingWidth),
            "n_layer": .int(layerCount),
            "n_head": .int(headCount),
            "n_positions": .int(contextLength),
            "n_ctx": .int(contextLength),
            "vocab_size": .int(vocabularySize),
            // Through the Float's own shortest text, so 1e-5 is written as 1e-05, not 9.99999974e-06.
            "layer_norm_epsilon": .double(Double(layerNormEpsilon.description) ?? Double(layerNormEpsilon)),
            "activation_function": .string("gelu_new"),
            "n_inner": .null,
            "tie_word_embeddings": .bool(true),
            "resid_pdrop": .double(dropout),
            "embd_pdrop": .double(dropout),
            "attn_pdrop": .double(dropout),
            "whittle": .object(whittle),
        ]
        keys["bos_token_id"] = tokenID(bosTokenID)
        keys["eos_token_id"] = tokenID(eosTokenID)
        return Array((JSONValue.object(keys).serialized(indent: 2) + "\n").utf8)
    }

    /// `id` as JSON when the vocabulary has it, else `null`.
    private func tokenID(_ id: Int?) -> JSONValue {
        guard let id, (0..<vocabularySize).contains(id) else { return .null }
        return .int(id)
    }

    private static let configHint = "config.json must be a Hugging Face GPT-2 config (model_type \"gpt2\")"

    private static func wrongType(_ key: String, _ value: JSONValue, _ expected: String) -> WhittleError {
        .file("config.json \(key) is \(value.serialized()) (\(value.typeName)), expected \(expected)", hint: configHint)
    }

    private static func integer(_ json: JSONValue, _ key: String) throws -> Int {
        guard let value = json[key] else {
            throw WhittleError.file("config.json has no \"\(key)\"", hint: configHint)
        }
        guard let number = value.intValue else { throw wrongType(key, value, "an integer") }
        return number
    }

    private static func string(_ json: JSONValue, _ key: String, default fallback: String?) throws -> String? {
        guard let value = json[key] else {
            guard let fallback else { throw WhittleError.file("config.json has no \"\(key)\"", hint: configHint) }
            return fallback
        }
        guard let text = value.stringValue else { throw wrongType(key, value, "a string") }
        return text
    }
}
