// Plan files (`whittle quantize --plan FILE`): JSON, read strictly — unknown keys, wrong types,
// unknown quantization types and duplicate patterns are errors naming the file and key. A file may
// leave out `type` and `embedding_type` (the command line or the defaults give them); its
// `tensor_types` come before any `--tensor-type` rules, so the command line overrides the file.
//
//     {
//       "comment": "4-bit matrices, 8-bit MLP down projections",
//       "type": "q4_0",
//       "embedding_type": "q8_0",
//       "tensor_types": { "ffn_down": "q8_0", "blk.0.*": "q5_0" }
//     }

/// What a plan file says; missing entries are nil (or no rules).
public struct QuantizationPlanFile: Equatable, Sendable {
    public var defaultFormat: WeightFormat?
    public var embeddingFormat: WeightFormat?
    public var rules: [QuantizationPlan.Rule]

    public init(defaultFormat: WeightFormat? = nil, embeddingFormat: WeightFormat? = nil, rules: [QuantizationPlan.Rule] = []) {
        self.defaultFormat = defaultFormat
        self.embeddingFormat = embeddingFormat
        self.rules = rules
    }

    static let keys = ["comment", "type", "embedding_type", "tensor_types"]

    /// Reads and parses the plan file at `path` (`.io` if unreadable, `.config` if malformed).
    public static func load(path: String) throws -> QuantizationPlanFile {
        try parse(try FileIO.readFile(path), source: path)
    }

    /// Parses plan-file JSON; `source` names the file in errors.
    public static func parse(_ bytes: [UInt8], source: String) throws -> QuantizationPlanFile {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes, maxDepth: 4)
        } catch let error as WhittleError {
            throw WhittleError.config("plan file \(source) is not valid JSON: \(error.message)", hint: Self.hint)
        }
        guard case .object(let members) = document else {
            throw WhittleError.config("plan file \(source) holds \(document.typeName), not a JSON object", hint: Self.hint)
        }
        var plan = QuantizationPlanFile()
        for member in members {
            switch member.key {
            case "comment":
                guard member.value.stringValue != nil else { throw wrongType(source, "comment", "a string", member.value) }
            case "type":
                plan.defaultFormat = try format(member.value, key: "type", source: source)
            case "embedding_type":
                plan.embeddingFormat = try format(member.value, key: "embedding_type", source: source)
            case "tensor_types":
                guard case .object(let rules) = member.value else {
                    throw wrongType(source, "tensor_types", "an object of \"PATTERN\": \"TYPE\"", member.value)
                }
                for rule in rules {
                    do {
                        try QuantizationPlan.checkPattern(rule.key)
                    } catch let error as WhittleError {
                        throw WhittleError.config("plan file \(source): \(error.message)", hint: error.hint)
                    }
                    let format = try format(rule.value, key: "tensor_types.\(rule.key)", source: source)
                    plan.rules.append(QuantizationPlan.Rule(pattern: rule.key, format: format))
                }
            default:
                throw WhittleError.config("plan file \(source) has an unknown key '\(member.key)'",
                                          hint: "a plan file's keys are \(keys.joined(separator: ", "))")
            }
        }
        return plan
    }

    static let hint = #"a plan file is a JSON object such as {"type": "q4_0", "embedding_type": "q8_0", "tensor_types": {"ffn_down": "q8_0"}}"#

    static func format(_ value: JSONValue, key: String, source: String) throws -> WeightFormat {
        guard let name = value.stringValue else { throw wrongType(source, key, "a type name string", value) }
        do {
            return try QuantizationPlan.format(named: name, for: key)
        } catch let error as WhittleError {
            throw WhittleError.config("plan file \(source): \(error.message)", hint: error.hint)
        }
    }

    static func wrongType(_ source: String, _ key: String, _ expected: String, _ value: JSONValue) -> WhittleError {
        WhittleError.config("plan file \(source): '\(key)' must be \(expected), not \(value.typeName)", hint: hint)
    }

    /// The file as JSON text (the form `parse` reads).
    public func json() -> String {
        var members: [JSONValue.Member] = []
        if let defaultFormat { members.append(.init("type", .string(defaultFormat.rawValue))) }
        if let embeddingFormat { members.append(.init("embedding_type", .string(embeddingFormat.rawValue))) }
        members.append(.init("tensor_types", .object(rules.map { .init($0.pattern, .string($0.format.rawValue)) })))
        return JSONValue.object(members).serialized(indent: 2) + "\n"
    }
}
