// `ModelConfig` as a Hugging Face GPT-2 `config.json` (transformers' `GPT2Config`), so a model
// directory written by Whittle loads with `GPT2LMHeadModel.from_pretrained` and a GPT-2
// directory from the Hub loads here. Settings Hugging Face has no key for live in a
// `"whittle"` section that transformers ignores.
//
// Blocks that differ (structured pruning, narrow students) are written the way transformers reads
// them where it can: removed heads as `pruned_heads` (the highest-numbered heads of each block, so
// the kept heads stay in order and transformers shrinks c_attn/c_proj to the stored shapes), a
// uniform MLP width other than 4C as `n_inner`. MLP widths that differ between blocks have no
// transformers key: they are listed in `whittle.mlp_widths` (and `n_inner` holds the widest).

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
        var inner: Int? = nil
        if let value = json["n_inner"], value != .null { inner = try Self.integer(json, "n_inner") }
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
        var mlpWidths: [Int]? = nil
        if let section = json["whittle"] {
            guard case .object = section else { throw Self.wrongType("whittle", section, "an object") }
            if let value = section["bias"] {
                guard let flag = value.boolValue else { throw Self.wrongType("whittle.bias", value, "true or false") }
                bias = flag
            }
            if let value = section["mlp_widths"] {
                guard case .array(let items) = value, items.count <= ModelConfig.dimensionLimit else {
                    throw Self.wrongType("whittle.mlp_widths", value, "an array of integers")
                }
                mlpWidths = try items.map { item in
                    guard let number = item.intValue else { throw Self.wrongType("whittle.mlp_widths", value, "an array of integers") }
                    return number
                }
            }
        }
        let layers = try Self.integer(json, "n_layer"), heads = try Self.integer(json, "n_head")
        self.init(layerCount: layers, headCount: heads, embeddingWidth: width, contextLength: positions,
                  vocabularySize: try Self.integer(json, "vocab_size"), hasBias: bias, layerNormEpsilon: epsilon)
        try validate()   // before sizes derived from n_layer are trusted
        let pruned = try Self.prunedHeads(json, layers: layers, heads: heads)
        if let mlpWidths, mlpWidths.count != layers {
            throw WhittleError.file("config.json whittle.mlp_widths lists \(mlpWidths.count) widths for n_layer = \(layers)",
                                    hint: "give one MLP width per block")
        }
        let uniformWidth = inner ?? 4 * width
        setLayerShapes((0..<layers).map { l in
            LayerShape(heads: heads - pruned[l], hiddenWidth: mlpWidths?[l] ?? uniformWidth)
        })
        try validate()
    }

    /// Heads removed per block, from transformers' `pruned_heads` ({"layer": [head, …]}); zeros without it.
    private static func prunedHeads(_ json: JSONValue, layers: Int, heads: Int) throws -> [Int] {
        var removed = Array(repeating: 0, count: layers)
        guard let value = json["pruned_heads"], value != .null else { return removed }
        guard case .object(let entries) = value else { throw wrongType("pruned_heads", value, "an object") }
        for member in entries {
            let key = member.key, list = member.value
            guard let layer = Int(key), (0..<layers).contains(layer) else {
                throw WhittleError.file("config.json pruned_heads names block \"\(key)\"; blocks are 0...\(layers - 1)",
                                        hint: configHint)
            }
            guard case .array(let items) = list else { throw wrongType("pruned_heads.\(key)", list, "an array of head numbers") }
            var seen = Set<Int>()
            for item in items {
                guard let head = item.intValue, (0..<heads).contains(head) else {
                    throw WhittleError.file("config.json pruned_heads.\(key) holds \(item.serialized()); heads are 0...\(heads - 1)",
                                            hint: configHint)
                }
                seen.insert(head)
            }
            guard seen.count < heads else {
                throw WhittleError.file("config.json pruned_heads removes every head of block \(key)", hint: "keep at least one head")
            }
            removed[layer] = seen.count
        }
        return removed
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
        let widths = layers.map(\.hiddenWidth)
        if Set(widths).count > 1 { whittle["mlp_widths"] = .array(widths.map { .int($0) }) }
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
            "n_inner": innerWidthJSON,
            "tie_word_embeddings": .bool(true),
            "resid_pdrop": .double(dropout),
            "embd_pdrop": .double(dropout),
            "attn_pdrop": .double(dropout),
            "whittle": .object(whittle),
        ]
        if let pruned = prunedHeadsJSON { keys["pruned_heads"] = pruned }
        keys["bos_token_id"] = tokenID(bosTokenID)
        keys["eos_token_id"] = tokenID(eosTokenID)
        return Array((JSONValue.object(keys).serialized(indent: 2) + "\n").utf8)
    }

    /// `id` as JSON when the vocabulary has it, else `null`.
    private func tokenID(_ id: Int?) -> JSONValue {
        guard let id, (0..<vocabularySize).contains(id) else { return .null }
        return .int(id)
    }

    /// `n_inner`: null for GPT-2's 4C, else the (widest) MLP width.
    private var innerWidthJSON: JSONValue {
        let widths = layers.map(\.hiddenWidth)
        let widest = widths.max() ?? 4 * embeddingWidth
        return Set(widths) == [4 * embeddingWidth] ? .null : .int(widest)
    }

    /// `pruned_heads` for blocks with fewer than n_head heads (their highest-numbered heads), or nil.
    private var prunedHeadsJSON: JSONValue? {
        var entries: [String: JSONValue] = [:]
        for (l, shape) in layers.enumerated() where shape.heads < headCount {
            entries[String(l)] = .array((shape.heads..<headCount).map { .int($0) })
        }
        return entries.isEmpty ? nil : .object(entries)
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
