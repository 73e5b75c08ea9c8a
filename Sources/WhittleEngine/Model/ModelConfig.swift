// The shape of a GPT-2 style model: what `config.json` describes and what the parameter
// layout is built from. Blocks may differ (heads removed by structured pruning, narrower MLPs):
// `layerShapes` then lists each block's heads and MLP width; it is nil for a uniform GPT-2.

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
    /// Per block: heads (at most `headCount`) and MLP width, when blocks differ from the uniform
    /// GPT-2 shape (`headCount` heads, a 4C MLP); nil when every block has that shape.
    public private(set) var layerShapes: [LayerShape]?

    public init(layerCount: Int, headCount: Int, embeddingWidth: Int, contextLength: Int,
                vocabularySize: Int, hasBias: Bool = true, layerNormEpsilon: Float = 1e-5,
                layerShapes: [LayerShape]? = nil) {
        self.layerCount = layerCount
        self.headCount = headCount
        self.embeddingWidth = embeddingWidth
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.hasBias = hasBias
        self.layerNormEpsilon = layerNormEpsilon
        self.layerShapes = nil
        if let layerShapes { setLayerShapes(layerShapes) }
    }

    /// Width of one attention head (n_embd / n_head, the same in every block).
    public var headWidth: Int { embeddingWidth / headCount }
    /// The shape every block has in a uniform GPT-2.
    public var uniformLayerShape: LayerShape { LayerShape(heads: headCount, hiddenWidth: 4 * embeddingWidth) }
    /// Every block's shape.
    public var layers: [LayerShape] { layerShapes ?? Array(repeating: uniformLayerShape, count: layerCount) }
    /// Whether every block has GPT-2's shape.
    public var isUniform: Bool { layerShapes == nil }

    /// Sets each block's shape; a list equal to the uniform shape is stored as nil, so equal models compare equal.
    public mutating func setLayerShapes(_ shapes: [LayerShape]) {
        layerShapes = shapes.allSatisfy({ $0 == uniformLayerShape }) && shapes.count == layerCount ? nil : shapes
    }

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
        if let layerShapes {
            guard layerShapes.count == layerCount else {
                throw WhittleError.config("the model lists \(layerShapes.count) block shapes for n_layer = \(layerCount)",
                                          hint: "give one shape per block")
            }
            for (l, shape) in layerShapes.enumerated() {
                guard (1...headCount).contains(shape.heads) else {
                    throw WhittleError.config("block \(l) has \(shape.heads) heads; each block keeps 1...n_head (\(headCount))")
                }
                try positive(shape.hiddenWidth, "block \(l)'s MLP width")
            }
        }
    }

    private static func divisors(of n: Int) -> [Int] { (1...min(n, 64)).filter { n % $0 == 0 } }
}
