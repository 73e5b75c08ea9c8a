// The whole model's backward against centred finite differences of its forward loss, at a tiny
// shape (uniform, and with blocks that differ in heads and MLP width), for both kernel paths, with
// and without biases; and GPT.backward's accumulate contract.
//
// The objective is the mean of the per-token losses GPT.forward leaves in `arena.losses`, summed
// in Double (GPT.forward's own Float return would add ~1e-7 of rounding). The forward pass runs in
// Float, so L(θ±h) carries ~1e-7 relative noise (L ≈ 2.4): with h = 5e-3 and Richardson extrapolation
// that is ≲1e-4 absolute in each estimate. Errors are relative to max(|numeric|, 1e-2), so the
// tolerance 2e-2 allows ~2e-4 absolute on small gradients and 2% on large ones. Measured: ≤ 1e-3 with
// biases; 6.3e-3 without, on wpe row 0 (LayerNorm of a small-norm residual is strongly curved there).

import Testing
import WhittleKernels

@Suite struct ModelGradientCheckTests {
    static let tolerance: Float = 2e-2
    static let floor: Float = 1e-2
    static let step: Float = 5e-3
    /// Parameters sampled from every tensor (besides the small tensors checked in full).
    static let samplesPerTensor = 4
    /// Tensors checked element by element.
    static let fullyCheckedTensors: Set<String> = ["ln_f.weight", "ln_f.bias", "h.1.ln_2.weight",
                                                   "h.0.attn.c_proj.bias"]

    /// A tiny model with GPT-2-style random weights (N(0, 0.1); LayerNorm weights 1 + N(0, 0.1)) and a batch.
    struct TinyModel {
        let layout: ParameterLayout
        let parameters: FloatBuffer
        let arena: ActivationArena

        init(_ dimensions: GPTDimensions, B: Int, T: Int, seed: UInt64, supportsDropout: Bool = false) {
            var generator = RandomGenerator(seed: seed)
            layout = ParameterLayout(dimensions)
            parameters = FloatBuffer(count: layout.totalCount)
            for tensor in layout.tensors {
                let isGain = if case .normGain = tensor.role { true } else { false }
                for i in 0..<tensor.count {
                    parameters[tensor.offset + i] = (isGain ? 1 : 0) + 0.1 * generator.nextNormal()
                }
            }
            arena = ActivationArena(dimensions: dimensions, B: B, T: T, supportsDropout: supportsDropout)
            for i in 0..<(B * T) {
                arena.tokens[i] = Int32(generator.nextInt(below: dimensions.V))
                arena.targets[i] = Int32(generator.nextInt(below: dimensions.V))
            }
        }

        /// Mean per-token loss, summed in Double.
        func loss(_ path: KernelPath) -> Double {
            GPT.forward(weights: ModelWeights(layout: layout, parameters: parameters.pointer), arena: arena, withTargets: true, path: path)
            let count = arena.B * arena.T
            var total: Double = 0
            for i in 0..<count { total += Double(arena.losses[i]) }
            return total / Double(count)
        }

        func gradients(_ path: KernelPath, lossScale: Float = 1) -> FloatBuffer {
            let gradients = FloatBuffer(count: layout.totalCount)
            GPT.forward(weights: ModelWeights(layout: layout, parameters: parameters.pointer), arena: arena, withTargets: true, path: path)
            GPT.backward(weights: ModelWeights(layout: layout, parameters: parameters.pointer), gradients: gradients.pointer, arena: arena,
                         lossScale: lossScale, path: path)
            return gradients
        }
    }

    static let dimensions = GPTDimensions(L: 2, NH: 2, C: 8, maxT: 6, V: 11)
    /// Block 0 keeps both heads and a wide MLP; block 1 lost a head and most of its MLP.
    static let nonUniform = GPTDimensions(C: 8, maxT: 6, V: 11, headWidth: 4,
                                          layers: [LayerShape(heads: 2, hiddenWidth: 40), LayerShape(heads: 1, hiddenWidth: 12)])

    /// Richardson-extrapolated centred difference (4·D(h) − D(2h)) / 3, whose truncation error is O(h⁴):
    /// LayerNorm of a small-norm residual (position 0, no biases) is curved enough that plain D(h)
    /// is off by several percent at any h the Float noise allows.
    func extrapolatedDifference(of value: UnsafeMutablePointer<Float>, objective: () -> Double) -> Float {
        let near = centredDifferences(of: value, count: 1, step: Self.step, objective: objective)[0]
        let far = centredDifferences(of: value, count: 1, step: 2 * Self.step, objective: objective)[0]
        return (4 * near - far) / 3
    }

    @Test(arguments: [KernelPath.fast, .reference], [true, false])
    func testGPT_backwardMatchesFiniteDifferences(path: KernelPath, hasBias: Bool) {
        checkAgainstFiniteDifferences(Self.dimensions, path: path, hasBias: hasBias)
    }

    @Test(arguments: [KernelPath.fast, .reference], [true, false])
    func testGPT_nonUniformBlocksBackwardMatchesFiniteDifferences(path: KernelPath, hasBias: Bool) {
        checkAgainstFiniteDifferences(Self.nonUniform, path: path, hasBias: hasBias)
    }

    func checkAgainstFiniteDifferences(_ shape: GPTDimensions, path: KernelPath, hasBias: Bool) {
        var dimensions = shape
        dimensions.hasBias = hasBias
        let model = TinyModel(dimensions, B: 2, T: 5, seed: 21)
        let analytic = model.gradients(path)
        var generator = RandomGenerator(seed: 22)
        var checked = 0
        for tensor in model.layout.tensors {
            let indices = Self.fullyCheckedTensors.contains(tensor.name)
                ? Array(0..<tensor.count)
                : (0..<Self.samplesPerTensor).map { _ in generator.nextInt(below: tensor.count) }
            var ours: [Float] = [], numeric: [Float] = []
            for index in indices {
                let position = tensor.offset + index
                ours.append(analytic[position])
                numeric.append(extrapolatedDifference(of: model.parameters.pointer + position) { model.loss(path) })
            }
            checked += indices.count
            let error = maxRelativeError(ours, numeric, floor: Self.floor)
            report("GPT(\(path), bias: \(hasBias), layers: \(dimensions.layers)) \(tensor.name)", error)
            #expect(error < Self.tolerance, "\(tensor.name): max relative error \(error)")
        }
        #expect(checked >= 60)
    }

    @Test func testGPT_backwardAccumulatesAndScalesByLossScale() {
        let model = TinyModel(Self.dimensions, B: 2, T: 5, seed: 23)
        let once = model.gradients(.fast)
        let scaled = model.gradients(.fast, lossScale: 8)
        #expect(maxRelativeError(scaled.array, once.array.map { 8 * $0 }, floor: 1e-3) < 1e-5)
        // A second backward on the same forward adds the same gradient again.
        GPT.backward(weights: ModelWeights(layout: model.layout, parameters: model.parameters.pointer), gradients: once.pointer,
                     arena: model.arena)
        let single = model.gradients(.fast)
        #expect(maxRelativeError(once.array, single.array.map { 2 * $0 }, floor: 1e-3) < 1e-5)
    }
}
