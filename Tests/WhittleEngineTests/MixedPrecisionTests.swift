// bf16 and fp16 passes against the fp32 pass: the same loss and gradients within 16-bit rounding,
// exact recomputation under checkpointing, the 16-bit ledger, and flushed-gradient counting.

import Testing
import CKernels
@testable import WhittleKernels

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
        let weights = ModelWeights(layout: layout, parameters: parameters.pointer, halfCopy: halfParameters,
                                   precision: precision)
        let loss = GPT.forward(weights: weights, arena: arena, withTargets: true)!
        let g = FloatBuffer(count: layout.totalCount)
        GPT.backward(weights: weights, gradients: g.pointer, arena: arena, lossScale: lossScale)
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

@Suite struct HalfMatmulTests {
    /// The native bf16 product (AVX512-BF16) against the widening fallback, for every transpose pair,
    /// with accumulation, a scale, and the rounded-output form with a bias. Without AVX512-BF16 both
    /// sides would be the same fallback, so the test is skipped; the fallback's rounding is checked below.
    @Test(.enabled(if: HalfMatmul.runsNatively(.bf16),
                   "this CPU has no AVX512-BF16: HalfMatmul.product is the widened fallback it would be compared with"),
          arguments: [false, true], [false, true])
    func testNativeProduct_matchesWidenedFallback(transposeA: Bool, transposeB: Bool) {
        let m = 70, n = 45, k = 131
        var generator = RandomGenerator(seed: 9)
        let a = HalfBuffer(count: m * k), b = HalfBuffer(count: k * n)
        let source = FloatBuffer((0..<(m * k + k * n)).map { _ in generator.nextNormal() })
        HalfConversion.round(source.pointer, to: a.pointer, count: m * k, format: .bf16)
        HalfConversion.round(source.pointer + m * k, to: b.pointer, count: k * n, format: .bf16)
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        let scratch = MatmulScratch()
        let initial = (0..<(m * n)).map { Float($0 % 5) }
        let native = FloatBuffer(initial), widened = FloatBuffer(initial)
        HalfMatmul.product(.bf16, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a.pointer, lda: lda,
                           b: b.pointer, ldb: ldb, c: native.pointer, ldc: n, accumulate: true, scratch: scratch)
        HalfMatmul.widenedProduct(.bf16, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a.pointer,
                                  lda: lda, b: b.pointer, ldb: ldb, c: widened.pointer, ldc: n, accumulate: true,
                                  alpha: 1, scratch: scratch)
        #expect(MixedPrecisionTests.relativeError(native.array, widened.array) < 1e-6)
        HalfMatmul.product(.bf16, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a.pointer, lda: lda,
                           b: b.pointer, ldb: ldb, c: native.pointer, ldc: n, accumulate: false, alpha: 0.125, scratch: scratch)
        HalfMatmul.widenedProduct(.bf16, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a.pointer,
                                  lda: lda, b: b.pointer, ldb: ldb, c: widened.pointer, ldc: n, accumulate: false,
                                  alpha: 0.125, scratch: scratch)
        #expect(MixedPrecisionTests.relativeError(native.array, widened.array) < 1e-6)
        let bias = FloatBuffer((0..<n).map { Float($0) / 7 })
        let rounded = HalfBuffer(count: m * n)
        HalfMatmul.roundedProduct(.bf16, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a.pointer,
                                  lda: lda, b: b.pointer, ldb: ldb, c: rounded.pointer, ldc: n, bias: bias.pointer,
                                  scratch: scratch)
        var worst: Float = 0
        for row in 0..<m {
            for j in 0..<n {
                let expected = (widened[row * n + j] / 0.125) + bias[j]
                let got = HalfConversion.widen(rounded[row * n + j], format: .bf16)
                worst = max(worst, abs(got - expected) / max(abs(expected), 1))
            }
        }
        #expect(worst < 1.0 / 128, "one bf16 ulp is 2^-8 relative; worst \(worst)")
    }
}

extension HalfMatmulTests {
    /// One unit in the last place, relative, of each 16-bit format (7 and 10 stored mantissa bits).
    static func oneULP(_ format: Precision) -> Double { format == .bf16 ? 0x1p-7 : 0x1p-10 }

    /// The rounded-output product with a bias on whatever path this CPU runs (fp16, and bf16 without
    /// AVX512-BF16, take the widened fallback): every element within one 16-bit ulp of bias + A·B
    /// summed in Double from the same 16-bit operands.
    @Test(arguments: [Precision.bf16, .fp16])
    func testRoundedProduct_isTheBiasedSumRoundedTo16Bits(format: Precision) {
        let m = 37, n = 29, k = 53
        var generator = RandomGenerator(seed: 11)
        let a = HalfBuffer(count: m * k), b = HalfBuffer(count: k * n)
        let source = FloatBuffer((0..<(m * k + k * n)).map { _ in generator.nextNormal() })
        HalfConversion.round(source.pointer, to: a.pointer, count: m * k, format: format)
        HalfConversion.round(source.pointer + m * k, to: b.pointer, count: k * n, format: format)
        let bias = FloatBuffer((0..<n).map { _ in generator.nextNormal() })
        let rounded = HalfBuffer(count: m * n)
        HalfMatmul.roundedProduct(format, transposeA: false, transposeB: false, m: m, n: n, k: k, a: a.pointer, lda: k,
                                  b: b.pointer, ldb: n, c: rounded.pointer, ldc: n, bias: bias.pointer,
                                  scratch: MatmulScratch())
        var worst = 0.0
        for row in 0..<m {
            for column in 0..<n {
                var sum = Double(bias[column])
                for i in 0..<k {
                    sum += Double(HalfConversion.widen(a[row * k + i], format: format))
                        * Double(HalfConversion.widen(b[i * n + column], format: format))
                }
                let got = Double(HalfConversion.widen(rounded[row * n + column], format: format))
                worst = max(worst, abs(got - sum) / max(abs(sum), 1))
            }
        }
        #expect(worst <= Self.oneULP(format), "\(format): worst relative error \(worst)")
    }
}

@Suite struct HalfConversionTests {
    /// The bulk conversions against the scalar references, on edge values and a spread of magnitudes,
    /// and their flush counts against a direct count.
    @Test(arguments: [Precision.bf16, .fp16])
    func testRound_matchesScalarReferenceAndCountsFlushes(format: Precision) {
        var values: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, 65504, 65519, 65520,
                               1e-9, -1e-9, 2.9e-8, 6e-8, 1e-5, .leastNonzeroMagnitude, .leastNormalMagnitude,
                               Float(bitPattern: 0x8000), Float(bitPattern: 0x8001), Float(bitPattern: 0x3F80_8000),
                               Float(bitPattern: 0x3F81_8000), 1.0009765625, 1.00048828125]
        var generator = RandomGenerator(seed: 4)
        for _ in 0..<5000 {
            let exponent = Float(generator.nextInt(below: 80)) - 60
            values.append(generator.nextNormal() * Float(sign: .plus, exponent: Int(exponent), significand: 1))
        }
        let output = HalfBuffer(count: values.count)
        let flushed = values.withUnsafeBufferPointer {
            HalfConversion.round($0.baseAddress!, to: output.pointer, count: values.count, format: format)
        }
        var expectedFlushed = 0
        for (index, x) in values.enumerated() {
            let expected = format == .bf16 ? HalfConversionReference.bf16(x) : HalfConversionReference.fp16(x)
            if x.isNaN {
                #expect(HalfConversion.widen(output[index], format: format).isNaN)
                continue
            }
            #expect(output[index] == expected, "\(x): \(output[index]) vs \(expected)")
            if x != 0 && x.isFinite && expected & 0x7FFF == 0 { expectedFlushed += 1 }
        }
        #expect(flushed == expectedFlushed)
        #expect(flushed > 0)
        let widened = FloatBuffer(count: values.count)
        HalfConversion.widen(output.pointer, to: widened.pointer, count: values.count, format: format)
        for index in values.indices where !values[index].isNaN {
            #expect(widened[index] == HalfConversion.widen(output[index], format: format))
        }
    }
}

@Suite struct PeakThroughputTests {
    /// The bf16 peak's chains do what the FLOP count assumes: per instruction and lane, two products
    /// of 2^-10 · 2^-10 added (so 12 chains × 16 lanes × 1000 rounds sum to 192,000 · 2^-19 exactly).
    @Test(.enabled(if: HalfMatmul.runsNatively(.bf16),
                   "this CPU has no AVX512-BF16: ck_bf16_dot_chains has nothing to run and returns 0"))
    func testBF16Chains_computeTheCountedDotProducts() {
        #expect(ck_bf16_dot_chains(1000) == Float(192_000) / Float(1 << 19))
    }

    /// Without AVX512-BF16 the chains do nothing and say so (0), and there is no bf16 peak to report.
    @Test(.enabled(if: !HalfMatmul.runsNatively(.bf16), "this CPU has AVX512-BF16: the chains run (tested above)"))
    func testBF16Chains_returnZeroWithoutTheInstructions() {
        #expect(ck_bf16_dot_chains(1000) == 0)
        #expect(PeakThroughput.measureBF16GFLOPS(threads: 1, seconds: 0.01) == nil)
    }
}
