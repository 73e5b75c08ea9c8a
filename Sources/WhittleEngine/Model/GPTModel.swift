// A GPT-2 model in memory: its configuration, the parameter layout and the parameter arena.

@_exported import WhittleKernels

extension ModelConfig {
    /// The sizes the numeric kernels work with.
    public var dimensions: GPTDimensions {
        GPTDimensions(C: embeddingWidth, maxT: contextLength, V: vocabularySize, headWidth: headWidth, layers: layers,
                      hasBias: hasBias, epsilon: layerNormEpsilon)
    }
}

/// Weights of a GPT-2 model laid out as one contiguous arena (see `ParameterLayout`).
public final class GPTModel: @unchecked Sendable {
    public let config: ModelConfig
    public let layout: ParameterLayout
    public let parameters: FloatBuffer

    /// A model with every parameter zero (to be filled from a file).
    public init(config: ModelConfig) throws {
        try config.validate()
        self.config = config
        layout = ParameterLayout(config.dimensions)
        parameters = FloatBuffer(count: layout.totalCount)
    }

    /// GPT-2's initialisation as nanoGPT does it: N(0, 0.02) for weights and embeddings,
    /// N(0, 0.02/√(2L)) for the residual projections (c_proj), zero biases, unit LayerNorm gains.
    public static func initialized(config: ModelConfig, generator: inout RandomGenerator) throws -> GPTModel {
        let model = try GPTModel(config: config)
        let residualStd = 0.02 / Float(2 * config.layerCount).squareRoot()
        for tensor in model.layout.tensors {
            let p = model.parameters.pointer + tensor.offset
            switch tensor.role {
            case .bias, .normBias:
                p.update(repeating: 0, count: tensor.count)
            case .normGain:
                p.update(repeating: 1, count: tensor.count)
            case .tokenEmbedding, .positionEmbedding, .weight:
                let residual = tensor.role == .weight(.attentionOutput) || tensor.role == .weight(.mlpDown)
                let std: Float = residual ? residualStd : 0.02
                for i in 0..<tensor.count { p[i] = generator.nextNormal() * std }
            }
        }
        return model
    }

    /// The weights as the forward pass reads them (fp32, in the training layout).
    public var weights: ModelWeights { ModelWeights(layout: layout, parameters: parameters.pointer) }

    /// Total number of parameters.
    public var parameterCount: Int { layout.totalCount }

    /// Model FLOPs for one token of training (forward + backward): 6·N plus attention
    /// (PaLM appendix B: 6N + 12·L·H·Q·T, here with T the sequence length used and H·Q each block's attention width).
    public func trainingFlopsPerToken(sequenceLength T: Int) -> Double {
        let d = layout.dimensions
        let attentionWidths = (0..<d.L).reduce(0) { $0 + d.attentionWidth($1) }
        return 6 * Double(layout.nonEmbeddingCount) + 12 * Double(attentionWidths * T)
    }

    /// The first tensor holding a NaN or infinity in `buffer` (laid out like the parameters), if any.
    public func firstNonFiniteTensor(in buffer: FloatBuffer) -> String? {
        for tensor in layout.tensors {
            let p = buffer.pointer + tensor.offset
            for i in 0..<tensor.count where !p[i].isFinite { return tensor.name }
        }
        return nil
    }
}
