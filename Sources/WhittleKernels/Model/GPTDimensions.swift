// The dimensions the numeric core needs; the engine's `ModelConfig` maps onto this. Layers may
// differ from one another (structured pruning removes heads or MLP neurons, a distilled student
// may be narrower), so head count and MLP width are per layer; the head width is the same everywhere.

/// One transformer block's shape: its attention heads and the width of its MLP's hidden layer.
public struct LayerShape: Equatable, Hashable, Codable, Sendable {
    /// Attention heads in this block (each `headWidth` wide).
    public var heads: Int
    /// Width of the MLP's hidden layer (4C in GPT-2).
    public var hiddenWidth: Int

    public init(heads: Int, hiddenWidth: Int) {
        self.heads = heads
        self.hiddenWidth = hiddenWidth
    }
}

/// Sizes of a GPT-2 model as the kernels see them (dimension letters as in the kernels).
public struct GPTDimensions: Equatable, Sendable {
    public var C: Int      // embedding width
    public var maxT: Int   // positions in the table
    public var V: Int      // vocabulary
    /// Width of one attention head (C / n_head of the unpruned model).
    public var headWidth: Int
    /// Per block: heads and MLP width.
    public var layers: [LayerShape]
    public var hasBias: Bool
    public var epsilon: Float

    /// Layers.
    public var L: Int { layers.count }

    /// A uniform GPT-2: L blocks of NH heads (C / NH wide) and a 4C MLP.
    public init(L: Int, NH: Int, C: Int, maxT: Int, V: Int, hasBias: Bool = true, epsilon: Float = 1e-5) {
        self.init(C: C, maxT: maxT, V: V, headWidth: C / NH,
                  layers: Array(repeating: LayerShape(heads: NH, hiddenWidth: 4 * C), count: L),
                  hasBias: hasBias, epsilon: epsilon)
    }

    /// A model whose blocks may differ in heads and MLP width.
    public init(C: Int, maxT: Int, V: Int, headWidth: Int, layers: [LayerShape], hasBias: Bool = true,
                epsilon: Float = 1e-5) {
        self.C = C
        self.maxT = maxT
        self.V = V
        self.headWidth = headWidth
        self.layers = layers
        self.hasBias = hasBias
        self.epsilon = epsilon
    }

    /// Width of block `layer`'s attention (heads × head width): c_attn's output is three of these.
    @inline(__always)
    public func attentionWidth(_ layer: Int) -> Int { layers[layer].heads * headWidth }

    /// Widest attention over the blocks (sizes shared scratch).
    public var maxAttentionWidth: Int { layers.map { $0.heads }.max().map { $0 * headWidth } ?? 0 }
    /// Widest MLP over the blocks.
    public var maxHiddenWidth: Int { layers.map(\.hiddenWidth).max() ?? 0 }
    /// Most heads in any block.
    public var maxHeads: Int { layers.map(\.heads).max() ?? 0 }
}
