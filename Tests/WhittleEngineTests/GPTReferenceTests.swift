// The model against PyTorch: logits, loss and every parameter gradient of the Hugging Face fixture.

import Testing
import WhittleKernels

@Suite struct GPTReferenceTests {
    /// PyTorch float32 agreement: relative to max(|expected|, 1e-3).
    static let tolerance: Float = 1e-4

    func run(_ path: KernelPath) throws -> (logits: [Float], loss: Float, gradients: FloatBuffer, layout: ParameterLayout) {
        let layout = ParameterLayout(Fixture.dimensions)
        let parameters = try Fixture.parameters(layout)
        let (tokens, targets) = try Fixture.inputs()
        let arena = ActivationArena(dimensions: Fixture.dimensions, B: 2, T: 8)
        for (i, token) in tokens.joined().enumerated() { arena.tokens[i] = token }
        for (i, target) in targets.joined().enumerated() { arena.targets[i] = target }
        let loss = GPT.forward(weights: ModelWeights(layout: layout, parameters: parameters.pointer), arena: arena, withTargets: true, path: path)!
        let logits = arena.logits.array
        let gradients = FloatBuffer(count: layout.totalCount)
        GPT.backward(weights: ModelWeights(layout: layout, parameters: parameters.pointer), gradients: gradients.pointer, arena: arena, path: path)
        return (logits, loss, gradients, layout)
    }

    @Test(arguments: [KernelPath.fast, .reference])
    func testGPT_matchesPyTorchLogitsLossAndGradients(path: KernelPath) throws {
        let expected = try Fixture.tensors("expected.safetensors")
        let result = try run(path)
        #expect(maxRelativeError(result.logits, expected["logits"]!) < Self.tolerance)
        #expect(abs(result.loss - expected["loss"]![0]) / expected["loss"]![0] < Self.tolerance)
        for tensor in result.layout.tensors {
            let reference = expected["grad.transformer." + tensor.name]!
            let ours = Array(result.gradients.array[tensor.offset..<(tensor.offset + tensor.count)])
            let error = maxRelativeError(ours, reference)
            #expect(error < Self.tolerance, "gradient of \(tensor.name): max relative error \(error)")
        }
    }
}
