// The inference prefill's threaded layers: the attention kernel (attention_f32.c) against the plain
// attention at odd shapes, the 16-bit panel product (half_panel.c) against the scalar twin, and a
// whole prefill on several threads against the same prefill on one thread (equal bit for bit).

import CKernels
import Testing
@testable import WhittleEngine
@testable import WhittleKernels

@Suite struct PrefillTests {
    /// fp32 attention in a different summation order and a vector exp: relative to max(1, |value|).
    static let attentionTolerance: Float = 1e-5
    /// 16-bit products: the twin sums in the same k order; FMA contraction may differ by an ulp.
    static let productTolerance: Float = 2e-5

    /// qkv rows [T, 3A] from a seed.
    func qkv(T: Int, A: Int, seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        return (0..<(T * 3 * A)).map { _ in generator.nextNormal() * 1.5 }
    }

    func kernelAttention(_ x: [Float], T: Int, A: Int, heads: Int, threads: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: T * A)
        ck_attention_prefill(T, A, heads, x, &out, Int32(threads))
        return out
    }

    /// (T, heads, head width): single rows, tiles of 4 with 1–3 left over, head widths with an 8-column
    /// tail, and lengths past 64 where the rows of a head are split into four blocks.
    static let attentionShapes = [(1, 1, 8), (5, 2, 8), (17, 3, 24), (70, 2, 16), (131, 3, 40), (64, 1, 64)]

    @Test func testPrefillAttention_matchesThePlainAttention() throws {
        try #require(ck_attention_supported(8) != 0, "needs AVX2 and FMA")
        for (index, (T, heads, hs)) in Self.attentionShapes.enumerated() {
            let A = heads * hs
            let x = qkv(T: T, A: A, seed: UInt64(10 + index))
            var expected = [Float](repeating: 0, count: T * A), probs = [Float](repeating: 0, count: heads * T * T)
            AttentionReference.forward(out: &expected, probs: &probs, qkv: x, B: 1, T: T, C: A, NH: heads)
            let out = kernelAttention(x, T: T, A: A, heads: heads, threads: 1)
            #expect(maxRelativeError(out, expected, floor: 1) < Self.attentionTolerance, "T \(T) heads \(heads) × \(hs)")
        }
    }

    @Test func testPrefillAttention_threadedEqualsOneThread() throws {
        try #require(ck_attention_supported(8) != 0, "needs AVX2 and FMA")
        for (index, (T, heads, hs)) in Self.attentionShapes.enumerated() {
            let A = heads * hs
            let x = qkv(T: T, A: A, seed: UInt64(30 + index))
            let single = kernelAttention(x, T: T, A: A, heads: heads, threads: 1)
            for threads in [2, 3, 5] {
                #expect(kernelAttention(x, T: T, A: A, heads: heads, threads: threads) == single, "T \(T) on \(threads) threads")
            }
        }
    }

    @Test func testPrefillAttention_supportsHeadWidthsOfEights() {
        #expect(ck_attention_supported(12) == 0)
        #expect(ck_attention_supported(0) == 0)
    }

    /// The 16-bit panel product (forced at any row count) and ck_qgemm from its panel threshold on,
    /// against the scalar twin: partial panels of 1–15 outputs, 1–5 rows left after 6-row tiles, k with
    /// a tail of 1–7 values.
    @Test(arguments: [WeightFormat.f16, .bf16])
    func testHalfPanelProduct_matchesItsScalarTwin(format: WeightFormat) throws {
        try #require(ck_qgemm_has_avx2() != 0, "needs AVX2, FMA and F16C")
        let kernels = QuantizedKernelTests()
        let type = format.kernelType!
        for (index, (rows, outputs, k)) in [(1, 7, 13), (5, 16, 24), (24, 17, 37), (31, 33, 100), (40, 5, 203), (29, 48, 64)].enumerated() {
            let operands = kernels.operands(format, rows: rows, outputs: outputs, k: k, seed: UInt64(90 + index))
            let twin = kernels.product(format, operands, rows: rows, outputs: outputs, k: k, reference: true)
            let fast = kernels.product(format, operands, rows: rows, outputs: outputs, k: k, reference: false)
            #expect(maxRelativeError(fast, twin, floor: 1) < Self.productTolerance, "\(format) \(rows)×\(outputs)×\(k)")
            var panel = [Float](repeating: 0.5, count: rows * outputs)
            let done = operands.weights.withUnsafeBytes { w in
                ck_half_panel_gemm(type, rows, 0, outputs, k, w.baseAddress!, operands.rowBytes, operands.activations,
                                   4 * k, &panel, outputs, 1)
            }
            #expect(done == 1)
            #expect(maxRelativeError(panel, twin, floor: 1) < Self.productTolerance, "\(format) panel \(rows)×\(outputs)×\(k)")
        }
    }

    /// A small model whose heads are 16 wide and whose context (80) passes 64, where attention splits
    /// each head's rows into blocks, stored in `format`; `keep` holds the storage the weights point into.
    func model(_ format: WeightFormat) throws -> (weights: ModelWeights, keep: [AnyObject]) {
        let config = ModelConfig(layerCount: 2, headCount: 4, embeddingWidth: 64, contextLength: 80, vocabularySize: 65)
        let model = try GPTModel(config: config)
        var generator = RandomGenerator(seed: 3)
        for i in 0..<model.parameters.count { model.parameters[i] = generator.nextNormal() * 0.2 }
        if format == .f32 { return (model.weights, [model]) }
        let store = WeightStore(layout: model.layout, parameters: model.parameters.pointer) { _ in format }
        return (store.weights, [model, store])
    }

    /// Every position's logits and every cached key and value of a prefill on `threads` threads.
    func prefill(_ weights: ModelWeights, tokens: [Int32], threads: Int) -> (logits: [Float], keys: [[Float]], values: [[Float]]) {
        let d = weights.dimensions
        let arena = ActivationArena(dimensions: d, B: 1, T: tokens.count)
        for (i, token) in tokens.enumerated() { arena.tokens[i] = token }
        let cache = KVCache(dimensions: d)
        GPT.forward(weights: weights, arena: arena, withTargets: false, cache: cache, prefillThreads: threads)
        return (arena.logits.array, cache.keys.map(\.array), cache.values.map(\.array))
    }

    @Test(arguments: [WeightFormat.f32, .f16, .q8_0, .q4_0])
    func testPrefill_threadedEqualsOneThread(format: WeightFormat) throws {
        let (weights, keep) = try model(format)
        defer { withExtendedLifetime(keep) {} }
        var generator = RandomGenerator(seed: 11)
        for count in [2, 9, 80] {
            let tokens = (0..<count).map { _ in Int32(generator.nextInt(below: 65)) }
            let single = prefill(weights, tokens: tokens, threads: 1)
            for threads in [2, 3] {
                let threaded = prefill(weights, tokens: tokens, threads: threads)
                #expect(threaded.logits == single.logits, "\(format) \(count) tokens on \(threads) threads")
                #expect(threaded.keys == single.keys && threaded.values == single.values, "\(format) cache, \(count) tokens")
            }
        }
    }

    /// The prefill's last logits against the training forward pass (no cache: BLAS attention, GELU with
    /// its derivative, one thread) on the same tokens.
    @Test func testPrefill_matchesTheForwardPassWithoutACache() throws {
        let (weights, keep) = try model(.f32)
        defer { withExtendedLifetime(keep) {} }
        var generator = RandomGenerator(seed: 12)
        let tokens = (0..<80).map { _ in Int32(generator.nextInt(below: 65)) }
        let arena = ActivationArena(dimensions: weights.dimensions, B: 1, T: tokens.count)
        for (i, token) in tokens.enumerated() { arena.tokens[i] = token }
        GPT.forward(weights: weights, arena: arena, withTargets: false)
        let threaded = prefill(weights, tokens: tokens, threads: 2)
        #expect(maxRelativeError(threaded.logits, arena.logits.array, floor: 1) < 1e-4)
    }
}
