// The shape of a GPT-2 style model: what `config.json` describes and what the parameter
// layout is built from.

/// Hyperparameters that fix a model's architecture (GPT-2 family; Radford et al. 2019).
public struct ModelConfig: Equatable, Codable, Sendable {
    /// Number of transformer blocks (`n_layer`).
    public var layerCount: Int
    /// Attention heads per block (`n_head`).
    public var headCount: Int
    /// Width of the residual stream (`n_embd`).
    public var embeddingWidth: Int
    /// Longest sequence the position table covers (`n_positions` / `block_size`).
    public var contextLength: Int
    /// Token vocabulary size (`vocab_size`).
    public var vocabularySize: Int
    /// Whether linear layers and LayerNorms carry biases (nanoGPT's `bias`).
    public var hasBias: Bool
    /// LayerNorm epsilon (`layer_norm_epsilon`).
    public var layerNormEpsilon: Float

    public init(layerCount: Int, headCount: Int, embeddingWidth: Int, contextLength: Int,
                vocabularySize: Int, hasBias: Bool = true, layerNormEpsilon: Float = 1e-5) {
        self.layerCount = layerCount
        self.headCount = headCount
        self.embeddingWidth = embeddingWidth
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.hasBias = hasBias
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// Width of one attention head.
    public var headWidth: Int { embeddingWidth / headCount }
    /// Width of the MLP's hidden layer (4C, as in GPT-2).
    public var hiddenWidth: Int { 4 * embeddingWidth }

    /// Largest value any single dimension may take; keeps every derived size far from overflow.
    public static let dimensionLimit = 1 << 20

    /// Throws a `WhittleError` naming the first inconsistent field.
    public func validate() throws {
        func positive(_ value: Int, _ key: String) throws {
            guard value >= 1 else {
                throw WhittleError.config("\(key) must be at least 1 (got \(value))")
            }
            guard value <= Self.dimensionLimit else {
                throw WhittleError.config("\(key) = \(value) is larger than Whittle supports (\(Self.dimensionLimit))")
            }
        }
        try positive(layerCount, "n_layer")
        try positive(headCount, "n_head")
        try positive(embeddingWidth, "n_embd")
        try positive(contextLength, "block_size")
        try positive(vocabularySize, "vocab_size")
        guard embeddingWidth % headCount == 0 else {
            throw WhittleError.config(
                "n_embd (\(embeddingWidth)) must be divisible by n_head (\(headCount))",
                hint: "pick n_head among the divisors of \(embeddingWidth), e.g. \(Self.divisors(of: embeddingWidth).suffix(4).map(String.init).joined(separator: ", "))")
        }
        guard layerNormEpsilon.isFinite, layerNormEpsilon > 0 else {
            throw WhittleError.config("layer_norm_epsilon must be a positive number (got \(layerNormEpsilon))")
        }
    }

    private static func divisors(of n: Int) -> [Int] { (1...min(n, 64)).filter { n % $0 == 0 } }
}
