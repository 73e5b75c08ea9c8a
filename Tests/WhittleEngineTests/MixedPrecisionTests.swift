// bf16 and fp16 passes against the fp32 pass: the same loss and gradients within 16-bit rounding,
// exact recomputation under checkpointing, the 16-bit ledger, and flushed-gradient counting.

import Testing
import WhittleKernels

@Suite struct MixedPrecisionTests {
    struct Run {
        let loss: Float
        let gradients: [Float]
        let flushed: Int
    }

    static let dimensions = GPTDimensions(L: 3, NH: 2, C: 32, maxT: 40, V: 17)

    /// One forward/backward at `precision` over fixed weights and data.
    static func run(_ precision: Precision, checkpointEvery: Int = 0, dropout: Bool = false,
                    lossScale: Float = 1, weightScale: Float = 0.1) -> Run {
        let d = dimensions, B = 2, T = 33
        var generator = RandomGenerator(seed: 11)
        let layout = ParameterLayout(d)
        let parameters = FloatBuffer((0..<layout.totalCount).map { _ in weightScale * generator.nextNormal() })
        let arena = ActivationArena(dimensions: d, B: B, T: T, supportsDropout: dropout, checkpointEvery: checkpointEvery,
                                    precision: precision)
        for i in 0..<(B * T) {
            arena.tokens[i] = Int32(generator.nextInt(below: d.V))
            arena.targets[i] = Int32(generator.nextInt(below: d.V))
        }
        if dropout { arena.dropout = DropoutSettings(probability: 0.2, seed: 3, firstSequence: 1) }
        let half = HalfBuffer(count: precision.isHalf ? layout.totalCount : 0)
        if precision.isHalf {
            HalfConversion.round(parameters.pointer, to: half.pointer, count: layout.totalCount, format: precision)
        }
        let halfParameters = precision.isHalf ? UnsafePointer(half.pointer) : nil
        let loss = GPT.forward(parameters: parameters.pointer, layout: layout, arena: arena, withTargets: true,
                               halfParameters: halfParameters)!
        let g = FloatBuffer(count: layout.totalCount)
        GPT.backward(parameters: parameters.pointer, gradients: g.pointer, layout: layout, arena: arena,
                     lossScale: lossScale, halfParameters: halfParameters)
        return Run(loss: loss, gradients: g.array, flushed: arena.flushedGradients)
    }

    /// ‖a − b‖ / ‖b‖
    static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        var difference = 0.0, norm = 0.0
        for (x, y) in zip(a, b) {
            difference += Double(x - y) * Double(x - y)
            norm += Double(y) * Double(y)
        }
        return (difference / norm).squareRoot()
    }

    @Test(arguments: [Precision.bf16, .fp16], [false, true])
    func testHalfPass_matchesFP32WithinRounding(precision: Precision, dropout: Bool) {
        let reference = Self.run(.fp32, dropout: dropout)
        let half = Self.run(precision, dropout: dropout)
        // bf16 keeps 8 significant bits, fp16 11: relative errors of a few 2^-9 resp. 2^-12 per value.
        let tolerance = precision == .bf16 ? 0.03 : 0.005
        #expect(abs(half.loss - reference.loss) / reference.loss < Float(tolerance) / 3,
                "loss \(half.loss) vs \(reference.loss)")
        let error = Self.relativeError(half.gradients, reference.gradients)
        #expect(error < tolerance, "gradient relative error \(error)")
        #expect(error > 0, "the 16-bit pass should round something")
    }

    @Test(arguments: [Precision.bf16, .fp16], [1, 2])
    func testHalfPass_checkpointingRecomputesExactly(precision: Precision, every: Int) {
        let kept = Self.run(precision, dropout: true)
        let recomputed = Self.run(precision, checkpointEvery: every, dropout: true)
        #expect(kept.loss == recomputed.loss)
        #expect(kept.gradients == recomputed.gradients)
    }

    @Test func testFP16_smallGradientsFlushUnlessScaled() {
        // Tiny weights make tiny gradients: fp16 (smallest subnormal 2^-24) loses some; scaling by 2^16 saves them.
        let unscaled = Self.run(.fp16, weightScale: 0.02)
        let scaled = Self.run(.fp16, lossScale: 65536, weightScale: 0.02)
        let bf16 = Self.run(.bf16, weightScale: 0.02)
        #expect(unscaled.flushed > 0)
        #expect(scaled.flushed < unscaled.flushed)
        #expect(bf16.flushed == 0, "bf16 has fp32's exponent range")
        // The scaled gradients, unscaled, agree with fp32 better than the unscaled ones do.
        let reference = Self.run(.fp32, weightScale: 0.02)
        let unscaledBack = scaled.gradients.map { $0 / 65536 }
        #expect(Self.relativeError(unscaledBack, reference.gradients) <= Self.relativeError(unscaled.gradients, reference.gradients))
    }

    @Test(arguments: [Precision.bf16, .fp16], [0, 1])
    func testHalfArena_estimateMatchesAllocationAndHalvesActivations(precision: Precision, every: Int) {
        let d = GPTDimensions(L: 6, NH: 6, C: 48, maxT: 64, V: 65)
        let arena = ActivationArena(dimensions: d, B: 4, T: 64, supportsDropout: true, checkpointEvery: every, precision: precision)
        let estimate = ActivationArena.byteCounts(dimensions: d, B: 4, T: 64, supportsDropout: true, checkpointEvery: every,
                                                  precision: precision)
        #expect(estimate == arena.byteCounts)
        // Without checkpointing the 16-bit copies dominate; with it, the fp32 residual stream does.
        let fp32 = ActivationArena(dimensions: d, B: 4, T: 64, checkpointEvery: every).byteCounts.activations
        let ratio = Double(arena.byteCounts.activations) / Double(fp32)
        #expect(every == 0 ? ratio <= 0.55 : ratio < 1, "\(arena.byteCounts.activations) of \(fp32)")
    }
}
