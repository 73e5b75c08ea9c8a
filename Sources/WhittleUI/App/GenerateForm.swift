// The Generate screen's state: the form (prompt, temperature, top-k, seed, token count), the text
// streamed so far and the timing of the last generation. Validation turns the form into a
// GenerateRequest, or names the field that is wrong and what it accepts.

/// A form field's validation failure: names the field and what it accepts.
public struct FormError: Error, Equatable, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
}

/// What the host is asked to generate.
public struct GenerateRequest: Equatable, Sendable {
    public var prompt: String
    public var temperature: Double
    /// nil: sample from the whole vocabulary.
    public var topK: Int?
    public var seed: UInt64
    public var count: Int

    public init(prompt: String, temperature: Double, topK: Int?, seed: UInt64, count: Int) {
        self.prompt = prompt
        self.temperature = temperature
        self.topK = topK
        self.seed = seed
        self.count = count
    }
}

/// Timing of a finished generation.
public struct GenerationSummary: Equatable, Sendable {
    public var promptTokens: Int
    public var generatedTokens: Int
    public var prefillTokensPerSecond: Double
    public var decodeMillisecondsPerToken: Double

    public init(promptTokens: Int, generatedTokens: Int, prefillTokensPerSecond: Double,
                decodeMillisecondsPerToken: Double) {
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.prefillTokensPerSecond = prefillTokensPerSecond
        self.decodeMillisecondsPerToken = decodeMillisecondsPerToken
    }
}

/// Where a generation is.
public enum GenerationStatus: Equatable, Sendable {
    /// Nothing asked yet.
    case ready
    /// Waiting for the training thread to copy the weights at its next step boundary.
    case copying
    /// Streaming tokens from the weights of `step`.
    case generating(step: Int)
    case finished(step: Int, GenerationSummary)
    case failed(String)

    /// A generation is under way (Enter is ignored until it ends).
    public var isBusy: Bool {
        switch self {
        case .copying, .generating: true
        default: false
        }
    }
}

/// The Generate screen's form and output.
public struct GenerateForm: Equatable, Sendable {
    public enum Field: String, Equatable, Sendable, CaseIterable {
        case prompt, temperature, topK = "top-k", seed, tokens

        /// Numeric fields accept only digits and a decimal point.
        var accepts: (Character) -> Bool {
            switch self {
            case .prompt: { !$0.isNewline }
            case .temperature: { $0.isASCII && ($0.isNumber || $0 == ".") }
            case .topK, .seed, .tokens: { $0.isASCII && $0.isNumber }
            }
        }
    }

    /// Largest token count accepted.
    public static let maximumTokens = 5000

    public var fields: [Field: TextField] = [
        .prompt: TextField("ROMEO:"), .temperature: TextField("0.8"), .topK: TextField("200"),
        .seed: TextField("1337"), .tokens: TextField("300"),
    ]
    public var focus: Field = .prompt
    /// The prompt and everything generated after it.
    public var output = ""
    public var status: GenerationStatus = .ready
    /// The last validation failure, cleared by the next edit.
    public var error: String?

    public init() {}

    public subscript(field: Field) -> TextField {
        get { fields[field] ?? TextField() }
        set { fields[field] = newValue }
    }

    /// The request the form describes, or a message naming the bad field.
    public func request() -> Result<GenerateRequest, FormError> {
        let prompt = self[.prompt].text
        guard !prompt.isEmpty else { return .failure(FormError(message: "prompt: type at least one character")) }
        guard let temperature = Double(self[.temperature].text), temperature.isFinite, (0...10).contains(temperature)
        else {
            return .failure(FormError(message: "temperature must be a number from 0 to 10 (0 = always the likeliest token)"))
        }
        let topKText = self[.topK].text
        guard topKText.isEmpty || Int(topKText) != nil else {
            return .failure(FormError(message: "top-k must be a whole number (0 or empty = no limit)"))
        }
        let topK = Int(topKText).flatMap { $0 > 0 ? $0 : nil }
        guard let seed = UInt64(self[.seed].text), seed <= UInt64(Int64.max) else {
            return .failure(FormError(message: "seed must be a whole number from 0 to \(Int64.max)"))
        }
        guard let count = Int(self[.tokens].text), (1...Self.maximumTokens).contains(count) else {
            return .failure(FormError(message: "tokens must be a whole number from 1 to \(Self.maximumTokens)"))
        }
        return .success(GenerateRequest(prompt: prompt, temperature: temperature, topK: topK, seed: seed, count: count))
    }
}
