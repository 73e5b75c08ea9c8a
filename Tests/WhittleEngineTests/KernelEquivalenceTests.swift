// Fast kernels (OpenBLAS, fused attention) against their plain-loop references, forward and
// backward, at several shapes including odd ones (T = 1, T = 7, C not a multiple of 8, NH = 1 and 3),
// and the whole model on both kernel paths. Measured: Linear ≤ 1.4e-5, Attention ≤ 2.1e-6, GPT ≤ 3.5e-5.

import Testing
import WhittleKernels

@Suite struct KernelEquivalenceTests {
    /// Fast and reference differ only in summation order: max |a−b| / max(|b|, floor) < 1e-4.
    static let tolerance: Float = 1e-4
    /// Layer tests use O(1) random data, where a near-zero entry is the difference of O(1) terms and
    /// carries ~1e-6 of Float rounding in either kernel; the floor 0.1 allows 1e-5 absolute there.
    static let layerFloor: Float = 1e-1
    /// The model's outputs and gradients are small (weights ~N(0, 0.1)); the fixture test's floor 1e-3.
    static let modelFloor: Float = 1e-3

    struct LinearShape: Sendable, CustomTestStringConvertible {
        let N: Int, C: Int, OC: Int
        var testDescription: String { "N=\(N) C=\(C) OC=\(OC)" }
    }

    static let linearShapes = [LinearShape(N: 1, C: 1, OC: 1), LinearShape(N: 5, C: 6, OC: 7),
                               LinearShape(N: 7, C: 13, OC: 39), LinearShape(N: 16, C: 24, OC: 96),
                               LinearShape(N: 3, C: 36, OC: 9)]

    @Test(arguments: linearShapes)
    func testLinear_fastMatchesReference(shape: LinearShape) {
        let (N, C, OC) = (shape.N, shape.C, shape.OC)
        var generator = RandomGenerator(seed: 31)
        let inp = FloatBuffer.normal(N * C, using: &generator)
        let weight = FloatBuffer.normal(C * OC, scale: 0.5, using: &generator)
        let bias = FloatBuffer.normal(OC, using: &generator)
        let dout = FloatBuffer.normal(N * OC, using: &generator)
        let residual = FloatBuffer.normal(N * OC, using: &generator)
        typealias Results = (out: [Float], accumulated: [Float], dinp: [Float], dweight: [Float], dbias: [Float])
        func run(_ path: KernelPath) -> Results {
            let out = FloatBuffer(count: N * OC), accumulated = FloatBuffer(residual.array)
            // Gradient buffers start non-zero to exercise the accumulate contract too.
            let dinp = FloatBuffer(count: N * C), dweight = FloatBuffer(count: C * OC), dbias = FloatBuffer(count: OC)
            dinp.fill(.nan)
            dweight.fill(0.25)
            dbias.fill(-0.5)
            switch path {
            case .fast:
                Linear.forward(out: out.pointer, inp: inp.pointer, weight: weight.pointer, bias: bias.pointer,
                               N: N, C: C, OC: OC)
                Linear.forward(out: accumulated.pointer, inp: inp.pointer, weight: weight.pointer, bias: bias.pointer,
                               N: N, C: C, OC: OC, accumulate: true)
                Linear.backward(dinp: dinp.pointer, dweight: dweight.pointer, dbias: dbias.pointer, dout: dout.pointer,
                                inp: inp.pointer, weight: weight.pointer, N: N, C: C, OC: OC)
            case .reference:
                LinearReference.forward(out: out.pointer, inp: inp.pointer, weight: weight.pointer, bias: bias.pointer,
                                        N: N, C: C, OC: OC)
                for i in 0..<(N * OC) { accumulated[i] += out[i] }
                LinearReference.backward(dinp: dinp.pointer, dweight: dweight.pointer, dbias: dbias.pointer,
                                         dout: dout.pointer, inp: inp.pointer, weight: weight.pointer,
                                         N: N, C: C, OC: OC)
            }
            return (out.array, accumulated.array, dinp.array, dweight.array, dbias.array)
        }
        let fast = run(.fast), reference = run(.reference)
        let errors = [("out", maxRelativeError(fast.out, reference.out, floor: Self.layerFloor)),
                      ("out (accumulate)",
                       maxRelativeError(fast.accumulated, reference.accumulated, floor: Self.layerFloor)),
                      ("dinp", maxRelativeError(fast.dinp, reference.dinp, floor: Self.layerFloor)),
                      ("dweight", maxRelativeError(fast.dweight, reference.dweight, floor: Self.layerFloor)),
                      ("dbias", maxRelativeError(fast.dbias, reference.dbias, floor: Self.layerFloor))]
        for (name, error) in errors {
            report("Linear fast/reference \(shape.testDescription) \(name)", error)
            #expect(error < Self.tolerance, "\(name): \(error)")
        }
    }

    struct AttentionShape: Sendable, CustomTestStringConvertible {
        let B: Int, T: Int, C: Int, NH: Int
        var testDescription: String { "B=\(B) T=\(T) C=\(C) NH=\(NH)" }
    }

    static let attentionShapes = [AttentionShape(B: 1, T: 1, C: 8, NH: 1), AttentionShape(B: 2, T: 5, C: 6, NH: 2),
                                  AttentionShape(B: 2, T: 7, C: 12, NH: 3), AttentionShape(B: 1, T: 7, C: 10, NH: 1),
                                  AttentionShape(B: 3, T: 4, C: 9, NH: 3), AttentionShape(B: 2, T: 16, C: 32, NH: 4),
                                  AttentionShape(B: 2, T: 37, C: 12, NH: 2), AttentionShape(B: 1, T: 64, C: 16, NH: 4)]  // T ≥ 32: row-blocked path

    @Test(arguments: attentionShapes)
    func testAttention_fastMatchesReference(shape: AttentionShape) {
        let (B, T, C, NH) = (shape.B, shape.T, shape.C, shape.NH)
        var generator = RandomGenerator(seed: 32)
        let qkv = FloatBuffer.normal(B * T * 3 * C, using: &generator)
        let dout = FloatBuffer.normal(B * T * C, using: &generator)
        func run(_ path: KernelPath) -> (out: [Float], probs: [Float], dqkv: [Float]) {
            let out = FloatBuffer(count: B * T * C), probs = FloatBuffer(count: B * NH * T * T)
            let dqkv = FloatBuffer(count: qkv.count), scratch = FloatBuffer(count: T * T)
            out.fill(.nan)
            probs.fill(.nan)
            dqkv.fill(.nan)
            switch path {
            case .fast:
                Attention.forward(out: out.pointer, probs: probs.pointer, qkv: qkv.pointer, B: B, T: T, C: C, NH: NH)
                Attention.backward(dqkv: dqkv.pointer, scratch: scratch.pointer, dout: dout.pointer, qkv: qkv.pointer,
                                   probs: probs.pointer, B: B, T: T, C: C, NH: NH)
            case .reference:
                AttentionReference.forward(out: out.pointer, probs: probs.pointer, qkv: qkv.pointer,
                                           B: B, T: T, C: C, NH: NH)
                AttentionReference.backward(dqkv: dqkv.pointer, dout: dout.pointer, qkv: qkv.pointer,
                                            probs: probs.pointer, B: B, T: T, C: C, NH: NH)
            }
            return (out.array, probs.array, dqkv.array)
        }
        let fast = run(.fast), reference = run(.reference)
        for (name, error) in [("out", maxRelativeError(fast.out, reference.out, floor: Self.layerFloor)),
                              ("probs", maxRelativeError(fast.probs, reference.probs, floor: Self.layerFloor)),
                              ("dqkv", maxRelativeError(fast.dqkv, reference.dqkv, floor: Self.layerFloor))] {
            report("Attention fast/reference \(shape.testDescription) \(name)", error)
            #expect(error < Self.tolerance, "\(name): \(error)")
        }
    }

    struct ModelShape: Sendable, CustomTestStringConvertible {
        let dimensions: GPTDimensions, B: Int, T: Int
        var testDescription: String {
            let d = dimensions
            return "L=\(d.L) NH=\(d.layers[0].heads) C=\(d.C) V=\(d.V) bias=\(d.hasBias) B=\(B) T=\(T)"
        }
    }

    static let modelShapes = [
        ModelShape(dimensions: GPTDimensions(L: 2, NH: 2, C: 8, maxT: 6, V: 11), B: 2, T: 5),
        ModelShape(dimensions: GPTDimensions(L: 1, NH: 3, C: 9, maxT: 8, V: 13), B: 1, T: 7),
        ModelShape(dimensions: GPTDimensions(L: 2, NH: 1, C: 5, maxT: 4, V: 7, hasBias: false), B: 3, T: 1),
        ModelShape(dimensions: GPTDimensions(L: 3, NH: 3, C: 12, maxT: 7, V: 17, hasBias: false), B: 2, T: 7),
        ModelShape(dimensions: GPTDimensions(L: 1, NH: 2, C: 8, maxT: 40, V: 9), B: 1, T: 33),
    ]

    @Test(arguments: modelShapes)
    func testGPT_fastMatchesReference(shape: ModelShape) {
        let model = ModelGradientCheckTests.TinyModel(shape.dimensions, B: shape.B, T: shape.T, seed: 33)
        let fastGradients = model.gradients(.fast)
        // Backward overwrites the logits with dlogits, so compare the softmax kept beside them.
        let fastProbs = model.arena.probsOut.array, fastLoss = model.loss(.fast)
        let referenceGradients = model.gradients(.reference)
        let referenceProbs = model.arena.probsOut.array, referenceLoss = model.loss(.reference)
        let lossError = Float(abs(fastLoss - referenceLoss) / referenceLoss)
        let probsError = maxRelativeError(fastProbs, referenceProbs, floor: Self.modelFloor)
        report("GPT fast/reference \(shape.testDescription) loss", lossError)
        report("GPT fast/reference \(shape.testDescription) probs", probsError)
        #expect(lossError < Self.tolerance)
        #expect(probsError < Self.tolerance)
        for tensor in model.layout.tensors {
            let range = tensor.offset..<(tensor.offset + tensor.count)
            let error = maxRelativeError(Array(fastGradients.array[range]), Array(referenceGradients.array[range]),
                                         floor: Self.modelFloor)
            report("GPT fast/reference \(shape.testDescription) \(tensor.name)", error)
            #expect(error < Self.tolerance, "\(tensor.name): \(error)")
        }
    }
}
