// Memory predictions for a model shape, in Double so that any validated dimensions (however
// hostile: 100,000 layers, a 2^20-wide model) give a finite figure without overflowing. They are
// checked against `ResourceBudget` before the exact Int ledger (`TrainingConfig.memoryEstimate`,
// `ParameterLayout`, `ActivationArena.byteCounts`) is computed and before anything is allocated.

extension ModelConfig {
    /// Parameters of this shape (wte, wpe, every block's attention, MLP and LayerNorms, ln_f), in Double.
    public var approximateParameterCount: Double {
        let c = Double(embeddingWidth)
        let bias = hasBias ? 1.0 : 0.0
        var count = Double(vocabularySize) * c + Double(contextLength) * c + 2 * c
        if let layerShapes {
            for shape in layerShapes { count += Self.blockParameters(shape, headWidth: Double(headWidth), c: c, bias: bias) }
        } else {
            count += Double(layerCount) * Self.blockParameters(uniformLayerShape, headWidth: Double(headWidth), c: c, bias: bias)
        }
        return count
    }

    private static func blockParameters(_ shape: LayerShape, headWidth: Double, c: Double, bias: Double) -> Double {
        let a = Double(shape.heads) * headWidth, h = Double(shape.hiddenWidth)
        return 4 * c + c * 3 * a + bias * 3 * a + a * c + bias * c + c * h + bias * h + h * c + bias * c
    }

    /// Bytes of the fp32 weights alone (what loading a model directory allocates).
    public var approximateWeightBytes: Double { 4 * approximateParameterCount }

    /// Activation and scratch bytes of forward and backward passes over `batchSize` sequences of
    /// `contextLength` tokens (an upper-leaning approximation of `ActivationArena.byteCounts`: every
    /// block's kept tensors, the attention probabilities, logits and their softmax).
    public func approximateActivationBytes(batchSize: Int, contextLength t: Int) -> Double {
        Self.approximateActivationBytes(layers: layers, embeddingWidth: embeddingWidth, headWidth: headWidth,
                                        vocabularySize: vocabularySize, batchSize: batchSize, contextLength: t)
    }

    /// The same prediction for loaded weights' dimensions.
    public static func approximateActivationBytes(_ d: GPTDimensions, batchSize: Int, contextLength t: Int) -> Double {
        approximateActivationBytes(layers: d.layers, embeddingWidth: d.C, headWidth: d.headWidth, vocabularySize: d.V,
                                   batchSize: batchSize, contextLength: t)
    }

    private static func approximateActivationBytes(layers: [LayerShape], embeddingWidth: Int, headWidth: Int,
                                                   vocabularySize: Int, batchSize: Int, contextLength t: Int) -> Double {
        let bt = Double(batchSize) * Double(t), c = Double(embeddingWidth), tt = Double(t)
        var perPosition = 0.0
        for shape in layers {
            let a = Double(shape.heads) * Double(headWidth), h = Double(shape.hiddenWidth)
            perPosition += 6 * c + 4 * a + 2 * h + Double(shape.heads) * tt + 4
        }
        perPosition += 4 * c + 2 * Double(vocabularySize) + 8
        return 4 * bt * perPosition
    }
}
