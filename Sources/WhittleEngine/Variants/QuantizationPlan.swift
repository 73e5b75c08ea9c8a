// A per-tensor quantization plan: a default type for the matrices, a type for the token embedding
// (also the tied output head; 8-bit by default), and `PATTERN=TYPE` rules like llama.cpp's
// `--tensor-type`. Rules match GGUF names (`blk.3.ffn_down.weight`) and Whittle names
// (`h.3.mlp.c_proj.weight`) with `*` globs; `resolve` turns a plan into one format per tensor of a
// model's layout, refusing rules that match nothing and types whose blocks do not fit a tensor's rows.
// Only matrices and the token embedding are quantized; vectors and the position table stay f32.

/// A per-tensor quantization plan (see `resolve(layout:)`).
public struct QuantizationPlan: Equatable, Sendable {
    /// One `PATTERN=TYPE` rule.
    public struct Rule: Equatable, Sendable {
        public var pattern: String
        public var format: WeightFormat
        public init(pattern: String, format: WeightFormat) {
            self.pattern = pattern
            self.format = format
        }
    }

    /// The type of every matrix no rule names.
    public var defaultFormat: WeightFormat
    /// The type of the token embedding (the tied head) unless a rule names it.
    public var embeddingFormat: WeightFormat
    /// Rules in order; when several match a tensor, the last one wins (so later rules override).
    public var rules: [Rule]

    /// The embedding's default type: 8 bits, as llama.cpp keeps `token_embd`/`output` at higher precision.
    public static let defaultEmbeddingFormat = WeightFormat.q8_0

    public init(defaultFormat: WeightFormat, embeddingFormat: WeightFormat = defaultEmbeddingFormat, rules: [Rule] = []) {
        self.defaultFormat = defaultFormat
        self.embeddingFormat = embeddingFormat
        self.rules = rules
    }

    /// Formats a variant can store: every GGUF type (`int8` has no GGUF type; docs/DECISIONS.md).
    public static var storableFormats: [WeightFormat] { WeightFormat.allCases.filter { $0.traits.ggufType != nil } }

    /// Parses a type name (`q4_0`, `Q4_0`, `f16`, ...); `what` names the setting in the error.
    public static func format(named name: String, for what: String) throws -> WeightFormat {
        let list = storableFormats.map(\.rawValue).joined(separator: ", ")
        guard let format = WeightFormat(rawValue: name.lowercased()) else {
            throw WhittleError.config("unknown type '\(name)' for \(what)", hint: "use one of \(list)")
        }
        guard format.traits.ggufType != nil else {
            throw WhittleError.config("\(what): \(format) (int8 per channel) cannot be stored in a variant yet: GGUF has no such type",
                                      hint: "use q8_0 for 8-bit weights (one of \(list))")
        }
        return format
    }

    /// Parses `PATTERN=TYPE` (llama.cpp's `--tensor-type` form).
    public static func rule(_ text: String) throws -> Rule {
        guard let equals = text.lastIndex(of: "=") else {
            throw WhittleError.config("--tensor-type '\(text)' is not PATTERN=TYPE", hint: "for example --tensor-type ffn_down=q8_0")
        }
        let pattern = String(text[..<equals]), type = String(text[text.index(after: equals)...])
        try checkPattern(pattern)
        return Rule(pattern: pattern, format: try format(named: type, for: "tensor pattern '\(pattern)'"))
    }

    /// Patterns are non-empty, printable ASCII without spaces or '='.
    static func checkPattern(_ pattern: String) throws {
        let valid = !pattern.isEmpty && pattern.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "=") }
        guard valid else {
            throw WhittleError.config("tensor pattern '\(pattern)' is empty or holds spaces, '=' or other characters no tensor name has",
                                      hint: "patterns are tensor names or parts of them, with * for any characters: ffn_down, blk.3.*, h.*.mlp.c_fc")
        }
    }

    /// The quantizable tensors of a layout: every matrix and the token embedding.
    public static func isQuantizable(_ tensor: ParameterTensor) -> Bool {
        tensor.role == .tokenEmbedding || tensor.role.isLinearWeight
    }

    /// A tensor's row length once stored: its reduction axis (a matrix's input width, the embedding's width).
    static func rowLength(_ tensor: ParameterTensor) -> Int {
        tensor.orientation == .inputMajor ? tensor.shape[0] : tensor.shape[1]
    }

    /// One format per tensor of `layout`, in its order (non-quantizable tensors f32). Throws `.config`
    /// naming every rule that matches no quantizable tensor, and the first tensor whose rows are not
    /// whole blocks of its type (with the nearest type that fits).
    public func resolve(layout: ParameterLayout) throws -> [WeightFormat] {
        var used = Array(repeating: false, count: rules.count)
        var formats: [WeightFormat] = []
        for tensor in layout.tensors {
            guard Self.isQuantizable(tensor) else { formats.append(.f32); continue }
            var chosen = tensor.role == .tokenEmbedding ? embeddingFormat : defaultFormat
            for (index, rule) in rules.enumerated() where Self.matches(rule.pattern, tensor) {
                chosen = rule.format
                used[index] = true
            }
            formats.append(chosen)
        }
        let unused = rules.indices.filter { !used[$0] }.map { rules[$0].pattern }
        if !unused.isEmpty {
            let stayFloat = unused.filter { pattern in layout.tensors.contains { !Self.isQuantizable($0) && Self.matches(pattern, $0) } }
            throw WhittleError.config("tensor pattern\(unused.count == 1 ? "" : "s") \(unused.map { "'\($0)'" }.joined(separator: ", ")) match\(unused.count == 1 ? "es" : "") no quantizable tensor"
                                      + (stayFloat.isEmpty ? "" : " (\(stayFloat.map { "'\($0)'" }.joined(separator: ", ")) only name vectors or the position table, which stay f32)"),
                                      hint: "quantizable tensors: \(Self.nameExamples(layout)); `*` matches any characters")
        }
        for (tensor, format) in zip(layout.tensors, formats) where Self.isQuantizable(tensor) && format.rowBytes(Self.rowLength(tensor)) == nil {
            let width = Self.rowLength(tensor)
            let fits = Self.nearestFitting(format, rowLength: width)
            throw WhittleError.config("\(tensor.name) (\(GPT2GGUF.name(tensor))) has rows of \(width) weights, not a multiple of \(format)'s block of \(format.traits.blockSize)",
                                      hint: "give it a type that fits, e.g. --tensor-type \(GPT2GGUF.name(tensor))=\(fits.rawValue) (the nearest in bits per weight)")
        }
        return formats
    }

    /// The storable type closest to `format` in bits per weight whose blocks divide `rowLength`
    /// (f16 fits any row).
    public static func nearestFitting(_ format: WeightFormat, rowLength: Int) -> WeightFormat {
        let candidates = storableFormats.filter { $0.rowBytes(rowLength) != nil }
        return candidates.min { abs($0.bitsPerWeight - format.bitsPerWeight) < abs($1.bitsPerWeight - format.bitsPerWeight) } ?? .f32
    }

    /// Whether `pattern` names `tensor`: the glob matches its GGUF or Whittle name whole, or a run of
    /// whole dot-separated parts of one (so `ffn_down` names `blk.3.ffn_down.weight`, as in llama.cpp).
    public static func matches(_ pattern: String, _ tensor: ParameterTensor) -> Bool {
        matches(pattern, name: tensor.name) || matches(pattern, name: GPT2GGUF.name(tensor))
    }

    static func matches(_ pattern: String, name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        let glob = Array(pattern.utf8)
        for start in parts.indices {
            for end in start..<parts.count where Self.glob(glob, Array(parts[start...end].joined(separator: ".").utf8)) {
                return true
            }
        }
        return false
    }

    /// Whole-string glob match where `*` matches any run of characters (dots included).
    static func glob(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0, star = -1, resume = 0
        while t < text.count {
            if p < pattern.count, pattern[p] != UInt8(ascii: "*"), pattern[p] == text[t] {
                p += 1; t += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p; resume = t; p += 1
            } else if star >= 0 {
                p = star + 1; resume += 1; t = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// A few quantizable names in both spellings, for hints.
    static func nameExamples(_ layout: ParameterLayout) -> String {
        let picks = layout.tensors.filter(isQuantizable).prefix(3)
        return picks.map { "\(GPT2GGUF.name($0)) / \($0.name)" }.joined(separator: ", ") + ", …"
    }
}
