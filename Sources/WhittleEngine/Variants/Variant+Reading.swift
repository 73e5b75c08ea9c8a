// Reading `variant.json` strictly: it may come from anywhere, so every key is required with its
// exact type, unknown keys, unknown formats, methods and pass kinds are refused, hashes must be
// 64 hex digits and counts non-negative; each failure is a `.file` error naming the file and key.
// `Variant.load` also checks the directory's SHA-256 manifest, so a damaged weights file or a
// hand-edited `variant.json` is caught before anyone trusts the lineage.

import Foundation

extension Variant {
    /// Largest `variant.json` read (a plan of a model with thousands of tensors is well below).
    static let maxFileBytes = 16 << 20

    /// Loads `directory/variant.json` after verifying the directory's manifest (when it has one).
    public static func load(_ directory: String) throws -> Variant {
        let path = directory + "/" + fileName
        guard FileIO.exists(path) else {
            throw WhittleError.file("\(directory) has no \(fileName), so it is not a variant directory",
                                    hint: "variant directories are made by `whittle quantize --out DIR` and `whittle prune --out DIR`")
        }
        if FileIO.exists(directory + "/" + AtomicDirectory.manifestName) { try AtomicDirectory.verify(directory) }
        let size = try LoadedModel.fileSize(path)
        guard size <= maxFileBytes else {
            throw WhittleError.file("\(path) is \(size) bytes; a variant.json is at most \(maxFileBytes)", hint: "the file is damaged or not a variant")
        }
        return try parse(try FileIO.readFile(path), source: path)
    }

    /// Parses `variant.json` bytes; `source` names the file in errors.
    public static func parse(_ bytes: [UInt8], source: String) throws -> Variant {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes, maxDepth: 8)
        } catch let error as WhittleError {
            throw WhittleError.file("\(source) is not valid JSON: \(error.message)", hint: Self.damagedHint)
        }
        var root = try StrictObject(document, key: "the document", source: source)
        guard try root.string("format") == formatName else {
            throw WhittleError.file("\(source): 'format' is not \"\(formatName)\"", hint: damagedHint)
        }
        let version = try root.count("version")
        guard version == Self.version else {
            throw WhittleError.file("\(source) is variant format version \(version); this Whittle reads version \(Self.version)",
                                    hint: "use the Whittle that wrote it, or re-create the variant")
        }
        var base = try root.object("base")
        let baseValue = Base(path: try base.string("path"), weightsFile: try base.string("weights_file"), sha256: try base.sha256("sha256"))
        try base.finish()
        let passValues = try root.array("passes")
        guard !passValues.isEmpty else { throw WhittleError.file("\(source): 'passes' is empty", hint: damagedHint) }
        let passes = try passValues.enumerated().map { try pass($0.element, key: "passes[\($0.offset)]", source: source) }
        var weights = try root.object("weights")
        let weightsFile = try weights.string("file"), weightsBytes = try weights.count("bytes")
        let bits = try weights.number("bits_per_weight"), parameters = try weights.count("parameters")
        try weights.finish()
        let planMembers = try root.members("plan")
        guard !planMembers.isEmpty else { throw WhittleError.file("\(source): 'plan' is empty", hint: damagedHint) }
        let plan = try planMembers.map { member -> PlanEntry in
            guard let name = member.value.stringValue, let format = WeightFormat(rawValue: name) else {
                throw WhittleError.file("\(source): plan entry '\(member.key)' is not a known type name", hint: damagedHint)
            }
            return PlanEntry(tensor: member.key, format: format)
        }
        let metrics = try root.value("metrics")
        guard metrics == .null || metrics.isObject else {
            throw WhittleError.file("\(source): 'metrics' must be null or an object, not \(metrics.typeName)", hint: damagedHint)
        }
        var whittle = try root.object("whittle")
        let whittleVersion = try whittle.string("version"), command = try whittle.string("command")
        try whittle.finish()
        try root.finish()
        return Variant(base: baseValue, passes: passes, plan: plan, weightsFile: weightsFile, weightsFileBytes: weightsBytes,
                       bitsPerWeight: bits, parameterCount: parameters, metrics: metrics, whittleVersion: whittleVersion, command: command)
    }

    static let damagedHint = "variant.json is damaged or was edited by hand; re-create the variant with `whittle quantize`"

    static func pass(_ value: JSONValue, key: String, source: String) throws -> Pass {
        var object = try StrictObject(value, key: key, source: source)
        let kindName = try object.string("pass")
        guard let kind = Pass.Kind(rawValue: kindName) else {
            throw WhittleError.file("\(source): \(key) is an unknown pass '\(kindName)'", hint: "this Whittle knows quantize, prune and distill passes; a newer one may have written the file")
        }
        let settings: Pass.Settings
        switch kind {
        case .distill:
            let distillation = try DistillationPass.read(&object)
            try object.finish()
            return Pass(settings: .distill(distillation))
        case .quantize:
            let methodName = try object.string("method")
            guard let method = RoundingMethod(rawValue: methodName) else {
                throw WhittleError.file("\(source): \(key) has an unknown method '\(methodName)'", hint: damagedHint)
            }
            let defaultFormat = try object.format("type"), embeddingFormat = try object.format("embedding_type")
            let rules = try object.members("tensor_types").map { member -> QuantizationPlan.Rule in
                guard let name = member.value.stringValue, let format = WeightFormat(rawValue: name) else {
                    throw WhittleError.file("\(source): \(key).tensor_types '\(member.key)' is not a known type name", hint: damagedHint)
                }
                return QuantizationPlan.Rule(pattern: member.key, format: format)
            }
            settings = .quantize(method: method, plan: QuantizationPlan(defaultFormat: defaultFormat, embeddingFormat: embeddingFormat, rules: rules))
        case .prune:
            settings = .prune(try pruningPlan(&object, method: try object.string("method"), key: key, source: source))
        }
        let text = try object.optional("calibration_text") { $0.stringValue }
        let samples = try object.optional("calibration_samples") { $0.intValue.flatMap { $0 >= 0 ? $0 : nil } }
        let seed = try object.optional("calibration_seed") { value -> UInt64? in
            guard case .number(let literal) = value else { return nil }
            return UInt64(literal)
        }
        var pass = Pass(settings: settings, calibrationText: text, calibrationSamples: samples, calibrationSeed: seed)
        if kind == .quantize {
            pass.targetBitsPerWeight = try object.optional("target_bpw") { $0.doubleValue.flatMap { $0.isFinite && $0 > 0 ? $0 : nil } }
            pass.predictedDivergence = try object.optional("predicted_kld") { $0.doubleValue.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil } }
        }
        try object.finish()
        return pass
    }

    /// A prune pass's plan members; the plan must validate.
    static func pruningPlan(_ object: inout StrictObject, method methodName: String, key: String, source: String) throws -> PruningPlan {
        guard let method = PruningMethod(rawValue: methodName) else {
            throw WhittleError.file("\(source): \(key) has an unknown pruning method '\(methodName)'", hint: damagedHint)
        }
        let sparsity = try object.number("sparsity")
        let pattern = try object.optional("pattern") { $0.stringValue.flatMap { try? SparsityPattern.parse($0) } }
        let structured = try object.optional("structured") { $0.stringValue.flatMap(PruningPlan.StructuredUnit.init(rawValue:)) }
        let scopeName = try object.string("scope")
        guard let scope = PruningPlan.Scope(rawValue: scopeName) else {
            throw WhittleError.file("\(source): \(key) has an unknown scope '\(scopeName)'", hint: damagedHint)
        }
        let embedding = try object.value("include_embedding")
        guard let includeEmbedding = embedding.boolValue else {
            throw WhittleError.file("\(source): \(key).include_embedding must be true or false", hint: damagedHint)
        }
        let plan = PruningPlan(method: method, sparsity: sparsity, pattern: pattern, structured: structured, scope: scope,
                               includeEmbedding: includeEmbedding)
        do {
            try plan.validate()
        } catch let error as WhittleError {
            throw WhittleError.file("\(source): \(key) is not a valid prune pass: \(error.message)", hint: damagedHint)
        }
        return plan
    }
}

extension JSONValue {
    var isObject: Bool {
        if case .object = self { return true }
        return false
    }
}

/// A JSON object read key by key: each key may be taken once, and `finish` refuses keys nobody took.
struct StrictObject {
    let members: [JSONValue.Member]
    let key: String
    let source: String
    private var taken: Set<String> = []

    init(_ value: JSONValue, key: String, source: String) throws {
        guard case .object(let members) = value else {
            throw WhittleError.file("\(source): \(key) must be an object, not \(value.typeName)", hint: Variant.damagedHint)
        }
        self.members = members
        self.key = key
        self.source = source
    }

    private func path(_ name: String) -> String { key == "the document" ? "'\(name)'" : "'\(key).\(name)'" }

    mutating func value(_ name: String) throws -> JSONValue {
        guard let member = members.first(where: { $0.key == name }) else {
            throw WhittleError.file("\(source) has no \(path(name))", hint: Variant.damagedHint)
        }
        taken.insert(name)
        return member.value
    }

    private func wrong(_ name: String, _ expected: String, _ value: JSONValue) -> WhittleError {
        WhittleError.file("\(source): \(path(name)) must be \(expected), not \(value.typeName)", hint: Variant.damagedHint)
    }

    mutating func string(_ name: String) throws -> String {
        let value = try value(name)
        guard let text = value.stringValue else { throw wrong(name, "a string", value) }
        return text
    }

    mutating func count(_ name: String) throws -> Int {
        let value = try value(name)
        guard let count = value.intValue, count >= 0 else { throw wrong(name, "a whole number ≥ 0", value) }
        return count
    }

    mutating func number(_ name: String) throws -> Double {
        let value = try value(name)
        guard let number = value.doubleValue, number.isFinite, number >= 0 else { throw wrong(name, "a finite number ≥ 0", value) }
        return number
    }

    mutating func sha256(_ name: String) throws -> String {
        let text = try string(name)
        guard text.utf8.count == 64, text.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw WhittleError.file("\(source): \(path(name)) is not a SHA-256 (64 lowercase hex digits)", hint: Variant.damagedHint)
        }
        return text
    }

    mutating func format(_ name: String) throws -> WeightFormat {
        let text = try string(name)
        guard let format = WeightFormat(rawValue: text) else {
            throw WhittleError.file("\(source): \(path(name)) is an unknown type '\(text)'", hint: Variant.damagedHint)
        }
        return format
    }

    mutating func object(_ name: String) throws -> StrictObject {
        try StrictObject(try value(name), key: key == "the document" ? name : "\(key).\(name)", source: source)
    }

    mutating func members(_ name: String) throws -> [JSONValue.Member] {
        let value = try value(name)
        guard case .object(let members) = value else { throw wrong(name, "an object", value) }
        return members
    }

    mutating func array(_ name: String) throws -> [JSONValue] {
        let value = try value(name)
        guard case .array(let elements) = value else { throw wrong(name, "an array", value) }
        return elements
    }

    /// A value that may be null; `convert` returns nil when a non-null value has the wrong form.
    mutating func optional<T>(_ name: String, _ convert: (JSONValue) -> T?) throws -> T? {
        let value = try value(name)
        if value == .null { return nil }
        guard let converted = convert(value) else { throw wrong(name, "null or a valid value", value) }
        return converted
    }

    func finish() throws {
        if let extra = members.first(where: { !taken.contains($0.key) }) {
            throw WhittleError.file("\(source): unknown key \(path(extra.key))", hint: Variant.damagedHint)
        }
    }
}
