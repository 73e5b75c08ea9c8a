// Activation checkpointing: recomputing blocks in backward gives the same gradients, with and without
// dropout, and the arena really holds fewer bytes.

import Testing
import WhittleKernels

@Suite struct ActivationCheckpointingTests {
    func gradients(_ dimensions: GPTDimensions, checkpointEvery: Int, dropout: Bool) -> (FloatBuffer, Float) {
        let B = 2, T = 33
        var generator = RandomGenerator(seed: 5)
        let layout = ParameterLayout(dimensions)
        let parameters = FloatBuffer((0..<layout.totalCount).map { _ in 0.1 * generator.nextNormal() })
        let arena = ActivationArena(dimensions: dimensions, B: B, T: T, supportsDropout: dropout,
                                    checkpointEvery: checkpointEvery)
        for i in 0..<(B * T) {
            arena.tokens[i] = Int32(generator.nextInt(below: dimensions.V))
            arena.targets[i] = Int32(generator.nextInt(below: dimensions.V))
        }
        if dropout { arena.dropout = DropoutSettings(probability: 0.2, seed: 3, firstSequence: 1) }
        let loss = GPT.forward(weights: ModelWeights(layout: layout, parameters: parameters.pointer), arena: arena, withTargets: true)!
        let g = FloatBuffer(count: layout.totalCount)
        GPT.backward(weights: ModelWeights(layout: layout, parameters: parameters.pointer), gradients: g.pointer, arena: arena)
        return (g, loss)
    }

    @Test(arguments: [1, 2, 3], [false, true])
    func testCheckpointing_recomputedBlocksGiveIdenticalGradients(every: Int, dropout: Bool) {
        let dimensions = GPTDimensions(L: 4, NH: 2, C: 16, maxT: 40, V: 13)
        let (kept, keptLoss) = gradients(dimensions, checkpointEvery: 0, dropout: dropout)
        let (recomputed, recomputedLoss) = gradients(dimensions, checkpointEvery: every, dropout: dropout)
        #expect(keptLoss == recomputedLoss)
        #expect(kept.array == recomputed.array)
    }

    @Test func testCheckpointing_everyBlockStoresAboutOneBlockOfActivations() {
        let d = GPTDimensions(L: 6, NH: 6, C: 48, maxT: 64, V: 65)
        let full = ActivationArena(dimensions: d, B: 4, T: 64).byteCounts.activations
        let every = ActivationArena(dimensions: d, B: 4, T: 64, checkpointEvery: 1).byteCounts.activations
        let half = ActivationArena(dimensions: d, B: 4, T: 64, checkpointEvery: 2).byteCounts.activations
        #expect(Double(every) < 0.35 * Double(full), "every block: \(every) of \(full) bytes")
        #expect(every < half && half < full)
    }
}
