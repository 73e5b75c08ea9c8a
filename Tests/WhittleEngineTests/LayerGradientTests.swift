// Every layer's backward against centred finite differences of its own forward, at tiny odd
// shapes, plus the accumulate/overwrite contract each backward documents.
//
// The objective is L = Σ r_i·out_i with fixed random r, accumulated in Double, so dL/dout = r
// exactly and backward is fed dout = r. The kernels themselves run in Float: each forward output
// carries a relative rounding error of ~1e-7, which in L(x±h) becomes ~1e-7·Σ|r_i·out_i| ≈ 1e-6 and,
// divided by 2h, an absolute noise of ~1e-4 (h = 1e-2) to ~1e-3 (h = 1e-3) in each finite
// difference. Errors are therefore measured relative to max(|numeric|, floor) with a floor of 1e-1
// (gradients here are O(1)), which also absorbs the O(h²) truncation error of the centred formula.
// Measured: ≤ 2e-4 for every layer with h = 1e-2; 8.1e-4 for GELU, where h = 1e-3.

import Testing
import WhittleKernels

@Suite struct LayerGradientTests {
    /// Max |analytic − numeric| / max(|numeric|, floor) allowed for a Float forward pass.
    static let tolerance: Float = 1e-2
    static let floor: Float = 1e-1
    /// Two calls of an accumulating backward must give exactly twice one call, up to Float rounding.
    static let accumulationTolerance: Float = 1e-6

    // MARK: Encoder

    @Test func testEncoder_backwardMatchesFiniteDifferences() {
        let B = 2, T = 5, C = 6, V = 7, maxT = 6
        var generator = RandomGenerator(seed: 11)
        let wte = FloatBuffer.normal(V * C, using: &generator)
        let wpe = FloatBuffer.normal(maxT * C, using: &generator)
        let tokens: [Int32] = [3, 1, 4, 1, 5, 0, 6, 3, 3, 2]  // repeats, and token 6 only once
        let r = FloatBuffer.normal(B * T * C, using: &generator)
        let out = FloatBuffer(count: B * T * C)
        let dwte = FloatBuffer(count: V * C), dwpe = FloatBuffer(count: maxT * C)
        tokens.withUnsafeBufferPointer { tok in
            func objective() -> Double {
                Encoder.forward(out: out.pointer, tokens: tok.baseAddress!, wte: wte.pointer, wpe: wpe.pointer,
                                B: B, T: T, C: C)
                return weightedSum(out.pointer, r)
            }
            Encoder.backward(dwte: dwte.pointer, dwpe: dwpe.pointer, dout: r.pointer, tokens: tok.baseAddress!,
                             B: B, T: T, C: C)
            let numericWte = centredDifferences(of: wte.pointer, count: wte.count, step: 1e-2, objective: objective)
            let numericWpe = centredDifferences(of: wpe.pointer, count: wpe.count, step: 1e-2, objective: objective)
            let errors = (maxRelativeError(dwte.array, numericWte, floor: Self.floor),
                          maxRelativeError(dwpe.array, numericWpe, floor: Self.floor))
            report("Encoder dwte", errors.0)
            report("Encoder dwpe", errors.1)
            #expect(errors.0 < Self.tolerance, "dwte: \(errors.0)")
            #expect(errors.1 < Self.tolerance, "dwpe: \(errors.1)")
            // Accumulates: a second call doubles both gradients.
            let once = (dwte.array, dwpe.array)
            Encoder.backward(dwte: dwte.pointer, dwpe: dwpe.pointer, dout: r.pointer, tokens: tok.baseAddress!,
                             B: B, T: T, C: C)
            #expect(maxRelativeError(dwte.array, once.0.map { 2 * $0 }) < Self.accumulationTolerance)
            #expect(maxRelativeError(dwpe.array, once.1.map { 2 * $0 }) < Self.accumulationTolerance)
        }
    }

    // MARK: LayerNorm

    @Test(arguments: [true, false])
    func testLayerNorm_backwardMatchesFiniteDifferences(hasBias: Bool) {
        let N = 5, C = 6
        var generator = RandomGenerator(seed: 12)
        let inp = FloatBuffer.normal(N * C, scale: 2, offset: 0.5, using: &generator)
        let weight = FloatBuffer.normal(C, scale: 0.3, offset: 1, using: &generator)
        let bias = FloatBuffer.normal(C, scale: 0.3, using: &generator)
        let r = FloatBuffer.normal(N * C, using: &generator)
        let out = FloatBuffer(count: N * C), mean = FloatBuffer(count: N), rstd = FloatBuffer(count: N)
        let biasPointer: UnsafeMutablePointer<Float>? = hasBias ? bias.pointer : nil
        func objective() -> Double {
            LayerNorm.forward(out: out.pointer, mean: mean.pointer, rstd: rstd.pointer, inp: inp.pointer,
                              weight: weight.pointer, bias: biasPointer.map { UnsafePointer($0) }, N: N, C: C,
                              epsilon: 1e-5)
            return weightedSum(out.pointer, r)
        }
        let dinp = FloatBuffer(count: N * C), dweight = FloatBuffer(count: C), dbias = FloatBuffer(count: C)
        func backward() {
            LayerNorm.backward(dinp: dinp.pointer, dweight: dweight.pointer, dbias: hasBias ? dbias.pointer : nil,
                               dout: r.pointer, inp: inp.pointer, weight: weight.pointer, mean: mean.pointer,
                               rstd: rstd.pointer, N: N, C: C)
        }
        _ = objective()
        backward()
        let numericInp = centredDifferences(of: inp.pointer, count: inp.count, step: 1e-2, objective: objective)
        let numericWeight = centredDifferences(of: weight.pointer, count: C, step: 1e-2, objective: objective)
        let inpError = maxRelativeError(dinp.array, numericInp, floor: Self.floor)
        let weightError = maxRelativeError(dweight.array, numericWeight, floor: Self.floor)
        report("LayerNorm(bias: \(hasBias)) dinp", inpError)
        report("LayerNorm(bias: \(hasBias)) dweight", weightError)
        #expect(inpError < Self.tolerance, "dinp: \(inpError)")
        #expect(weightError < Self.tolerance, "dweight: \(weightError)")
        if hasBias {
            let numericBias = centredDifferences(of: bias.pointer, count: C, step: 1e-2, objective: objective)
            let biasError = maxRelativeError(dbias.array, numericBias, floor: Self.floor)
            report("LayerNorm dbias", biasError)
            #expect(biasError < Self.tolerance, "dbias: \(biasError)")
        } else {
            #expect(dbias.array.allSatisfy { $0 == 0 }, "no bias: dbias must be untouched")
        }
        // Accumulates into dinp, dweight and dbias.
        _ = objective()
        let once = (dinp.array, dweight.array, dbias.array)
        backward()
        #expect(maxRelativeError(dinp.array, once.0.map { 2 * $0 }) < Self.accumulationTolerance)
        #expect(maxRelativeError(dweight.array, once.1.map { 2 * $0 }) < Self.accumulationTolerance)
        #expect(maxRelativeError(dbias.array, once.2.map { 2 * $0 }) < Self.accumulationTolerance)
    }

    // MARK: Linear

    @Test(arguments: [KernelPath.fast, .reference], [true, false])
    func testLinear_backwardMatchesFiniteDifferences(path: KernelPath, hasBias: Bool) {
        let N = 5, C = 6, OC = 7
        var generator = RandomGenerator(seed: 13)
        let inp = FloatBuffer.normal(N * C, using: &generator)
        let weight = FloatBuffer.normal(C * OC, scale: 0.5, using: &generator)
        let bias = FloatBuffer.normal(OC, scale: 0.5, using: &generator)
        let r = FloatBuffer.normal(N * OC, using: &generator)
        let out = FloatBuffer(count: N * OC)
        let biasPointer: UnsafePointer<Float>? = hasBias ? UnsafePointer(bias.pointer) : nil
        func objective() -> Double {
            switch path {
            case .fast: Linear.forward(out: out.pointer, inp: inp.pointer, weight: weight.pointer, bias: biasPointer,
                                       N: N, C: C, OC: OC)
            case .reference: LinearReference.forward(out: out.pointer, inp: inp.pointer, weight: weight.pointer,
                                                     bias: biasPointer, N: N, C: C, OC: OC)
            }
            return weightedSum(out.pointer, r)
        }
        let dinp = FloatBuffer(count: N * C), dweight = FloatBuffer(count: C * OC), dbias = FloatBuffer(count: OC)
        func backward() {
            let db = hasBias ? dbias.pointer : nil
            switch path {
            case .fast: Linear.backward(dinp: dinp.pointer, dweight: dweight.pointer, dbias: db, dout: r.pointer,
                                        inp: inp.pointer, weight: weight.pointer, N: N, C: C, OC: OC)
            case .reference: LinearReference.backward(dinp: dinp.pointer, dweight: dweight.pointer, dbias: db,
                                                      dout: r.pointer, inp: inp.pointer, weight: weight.pointer,
                                                      N: N, C: C, OC: OC)
            }
        }
        dinp.fill(.nan)  // overwritten, never read
        backward()
        let numericInp = centredDifferences(of: inp.pointer, count: inp.count, step: 1e-2, objective: objective)
        let numericWeight = centredDifferences(of: weight.pointer, count: weight.count, step: 1e-2,
                                               objective: objective)
        let inpError = maxRelativeError(dinp.array, numericInp, floor: Self.floor)
        let weightError = maxRelativeError(dweight.array, numericWeight, floor: Self.floor)
        report("Linear(\(path), bias: \(hasBias)) dinp", inpError)
        report("Linear(\(path), bias: \(hasBias)) dweight", weightError)
        #expect(inpError < Self.tolerance, "dinp: \(inpError)")
        #expect(weightError < Self.tolerance, "dweight: \(weightError)")
        if hasBias {
            let numericBias = centredDifferences(of: bias.pointer, count: OC, step: 1e-2, objective: objective)
            let biasError = maxRelativeError(dbias.array, numericBias, floor: Self.floor)
            report("Linear(\(path)) dbias", biasError)
            #expect(biasError < Self.tolerance, "dbias: \(biasError)")
        }
        // dinp is overwritten; dweight and dbias accumulate.
        let once = (dinp.array, dweight.array, dbias.array)
        backward()
        #expect(maxRelativeError(dinp.array, once.0) < Self.accumulationTolerance)
        #expect(maxRelativeError(dweight.array, once.1.map { 2 * $0 }) < Self.accumulationTolerance)
        #expect(maxRelativeError(dbias.array, once.2.map { 2 * $0 }) < Self.accumulationTolerance)
    }

    // MARK: Attention

    @Test(arguments: [KernelPath.fast, .reference])
    func testAttention_backwardMatchesFiniteDifferences(path: KernelPath) {
        let B = 2, T = 5, C = 6, NH = 2
        var generator = RandomGenerator(seed: 14)
        let qkv = FloatBuffer.normal(B * T * 3 * C, using: &generator)
        let r = FloatBuffer.normal(B * T * C, using: &generator)
        let out = FloatBuffer(count: B * T * C), probs = FloatBuffer(count: B * NH * T * T)
        func objective() -> Double {
            switch path {
            case .fast: Attention.forward(out: out.pointer, probs: probs.pointer, qkv: qkv.pointer,
                                          B: B, T: T, C: C, NH: NH)
            case .reference: AttentionReference.forward(out: out.pointer, probs: probs.pointer, qkv: qkv.pointer,
                                                        B: B, T: T, C: C, NH: NH)
            }
            return weightedSum(out.pointer, r)
        }
        let dqkv = FloatBuffer(count: qkv.count), scratch = FloatBuffer(count: T * T)
        func backward() {
            switch path {
            case .fast: Attention.backward(dqkv: dqkv.pointer, scratch: scratch.pointer, dout: r.pointer,
                                           qkv: qkv.pointer, probs: probs.pointer, B: B, T: T, C: C, NH: NH)
            case .reference: AttentionReference.backward(dqkv: dqkv.pointer, dout: r.pointer, qkv: qkv.pointer,
                                                         probs: probs.pointer, B: B, T: T, C: C, NH: NH)
            }
        }
        _ = objective()
        dqkv.fill(.nan)  // overwritten, never read
        scratch.fill(.nan)
        backward()
        let numeric = centredDifferences(of: qkv.pointer, count: qkv.count, step: 1e-2, objective: objective)
        let error = maxRelativeError(dqkv.array, numeric, floor: Self.floor)
        report("Attention(\(path)) dqkv", error)
        #expect(error < Self.tolerance, "dqkv: \(error)")
        // Overwrites: a second call gives the same result.
        _ = objective()
        let once = dqkv.array
        backward()
        #expect(maxRelativeError(dqkv.array, once) < Self.accumulationTolerance)
    }

    // MARK: GELU

    @Test func testGELU_backwardMatchesFiniteDifferences() {
        let count = 41
        var generator = RandomGenerator(seed: 15)
        let inp = FloatBuffer.uniform(count, in: -5, 5, using: &generator)
        inp[0] = 0
        let r = FloatBuffer.normal(count, using: &generator)
        let out = FloatBuffer(count: count)
        func objective() -> Double {
            GELU.forward(out: out.pointer, inp: inp.pointer, count: count)
            return weightedSum(out.pointer, r)
        }
        let dinp = FloatBuffer(count: count)
        dinp.fill(.nan)  // overwritten, never read
        GELU.backward(dinp: dinp.pointer, inp: inp.pointer, dout: r.pointer, count: count)
        let numeric = centredDifferences(of: inp.pointer, count: count, step: 1e-3, objective: objective)
        let error = maxRelativeError(dinp.array, numeric, floor: Self.floor)
        report("GELU dinp", error)
        #expect(error < Self.tolerance, "dinp: \(error)")
        // dinp may alias dout.
        let aliased = FloatBuffer(r.array)
        GELU.backward(dinp: aliased.pointer, inp: inp.pointer, dout: aliased.pointer, count: count)
        #expect(aliased.array == dinp.array)
    }

    // MARK: CrossEntropy

    @Test func testCrossEntropy_backwardMatchesFiniteDifferences() {
        let N = 5, V = 7
        let scale: Float = 0.37
        var generator = RandomGenerator(seed: 16)
        let logits = FloatBuffer.normal(N * V, scale: 2, using: &generator)
        let targets: [Int32] = [0, 6, 3, 3, 1]
        let losses = FloatBuffer(count: N), probs = FloatBuffer(count: N * V)
        // The backward's implied upstream gradient is dlosses[n] = scale for every n.
        let r = FloatBuffer([Float](repeating: scale, count: N))
        let dlogits = FloatBuffer(count: N * V)
        targets.withUnsafeBufferPointer { target in
            func objective() -> Double {
                CrossEntropy.forward(losses: losses.pointer, probs: probs.pointer, logits: logits.pointer,
                                     targets: target.baseAddress!, N: N, V: V)
                return weightedSum(losses.pointer, r)
            }
            _ = objective()
            dlogits.fill(.nan)  // overwritten, never read
            CrossEntropy.backward(dlogits: dlogits.pointer, probs: probs.pointer, targets: target.baseAddress!,
                                  N: N, V: V, scale: scale)
            let numeric = centredDifferences(of: logits.pointer, count: logits.count, step: 1e-2, objective: objective)
            // These gradients are O(scale), so the floor scales with it.
            let error = maxRelativeError(dlogits.array, numeric, floor: Self.floor * scale)
            report("CrossEntropy dlogits", error)
            #expect(error < Self.tolerance, "dlogits: \(error)")
        }
    }
}
