// Every optimizer: one or two steps against values computed by hand in Double, the C kernels
// against their Swift twins, exact state bytes, checkpoint round trips with bit-exact resume,
// rejected hyperparameters and switching optimizers mid-run.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite(.serialized) struct OptimizerTests {
    /// Absolute tolerance for float32 steps of unit-sized values against Double hand computation.
    static let handTolerance = 1e-5
    /// Relative tolerance between a C kernel and its Swift twin (FMA contraction and summation order).
    static let kernelTolerance: Float = 1e-5
    /// 8-bit state: a dequantized moment may differ from the exact one by half a code gap of the
    /// dynamic map (gaps are at most 0.9/64 of the block scale near ±1).
    static let codeTolerance: Float = 0.5 * 0.9 / 64 + 1e-6
    /// 8-bit C kernel vs its Swift twin after three steps: a rounding difference can move a moment to
    /// the neighbouring code (≤ 0.014 of the block scale), which changes later updates by up to
    /// lr × that fraction (lr = 0.01 → ~1.4e-4 absolute on unit-sized weights).
    static let eightBitKernelTolerance: Float = 5e-4

    static let p0: [Float] = [1.0, -2.0], g1: [Float] = [0.5, -1.0], g2: [Float] = [-0.25, 2.0]

    func expectClose(_ actual: FloatBuffer, _ expected: [Double], _ comment: String = "") {
        for (a, e) in zip(actual.array, expected) {
            #expect(abs(Double(a) - e) < Self.handTolerance, "\(comment): \(a) vs \(e)")
        }
    }

    // MARK: - Hand-computed steps

    @Test func testSGD_twoStepsMatchHandComputedValuesWithCoupledDecay() {
        let lr = 0.1, wd = 0.5
        let p = FloatBuffer(Self.p0)
        let buffers = [Self.g1, Self.g2].map(FloatBuffer.init)
        for g in buffers { SGD.update(parameters: p.pointer, gradients: g.pointer, count: 2, learningRate: Float(lr), l2: Float(wd)) }
        var expected = Self.p0.map(Double.init)
        for g in [Self.g1, Self.g2] { for i in 0..<2 { expected[i] -= lr * (Double(g[i]) + wd * expected[i]) } }
        expectClose(p, expected, "sgd")
    }

    @Test func testMomentum_twoStepsMatchHandComputedValuesForHeavyBallAndNesterov() {
        let lr = 0.1, wd = 0.5, mu = 0.9
        for nesterov in [false, true] {
            let p = FloatBuffer(Self.p0), b = FloatBuffer(count: 2)
            let buffers = [Self.g1, Self.g2].map(FloatBuffer.init)
            for g in buffers {
                SGD.update(parameters: p.pointer, gradients: g.pointer, buffer: b.pointer, count: 2,
                           learningRate: Float(lr), l2: Float(wd), momentum: Float(mu), nesterov: nesterov)
            }
            // torch.optim.SGD: g' = g + wd·p; buf = g' (step 1), then μ·buf + g'; step = buf or g' + μ·buf.
            var q = Self.p0.map(Double.init), buf = [0.0, 0.0]
            for (step, g) in [Self.g1, Self.g2].enumerated() {
                for i in 0..<2 {
                    let gi = Double(g[i]) + wd * q[i]
                    buf[i] = step == 0 ? gi : mu * buf[i] + gi
                    q[i] -= lr * (nesterov ? gi + mu * buf[i] : buf[i])
                }
            }
            expectClose(p, q, nesterov ? "nesterov" : "momentum")
            expectClose(b, buf, "buffer")
        }
    }

    @Test func testAdam_twoStepsMatchHandComputedValuesWithCoupledL2() {
        let s = AdamWSettings(learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.5)
        let p = FloatBuffer(Self.p0), m = FloatBuffer(count: 2), v = FloatBuffer(count: 2)
        let buffers = [Self.g1, Self.g2].map(FloatBuffer.init)
        for (step, g) in buffers.enumerated() {
            Adam.update(parameters: p.pointer, gradients: g.pointer, m: m.pointer, v: v.pointer, count: 2,
                        settings: s, step: step + 1, decays: true)
        }
        var q = Self.p0.map(Double.init), mm = [0.0, 0.0], vv = [0.0, 0.0]
        for (step, g) in [Self.g1, Self.g2].enumerated() {
            let t = Double(step + 1)
            for i in 0..<2 {
                let gi = Double(g[i]) + 0.5 * q[i]
                mm[i] = 0.9 * mm[i] + 0.1 * gi
                vv[i] = 0.99 * vv[i] + 0.01 * gi * gi
                let mHat = mm[i] / (1 - pow(0.9, t)), vHat = vv[i] / (1 - pow(0.99, t))
                q[i] -= 0.1 * mHat / (vHat.squareRoot() + 1e-8)
            }
        }
        expectClose(p, q, "adam")
    }

    @Test func testLion_twoStepsMatchHandComputedValues() {
        let lr = 0.01, wd = 0.5, b1 = 0.9, b2 = 0.99
        let p = FloatBuffer(Self.p0), m = FloatBuffer(count: 2)
        // Second gradient chosen so that step 2 flips the sign of coordinate 0's interpolation.
        let gradients: [[Float]] = [Self.g1, [-8.0, 2.0]]
        let buffers = gradients.map(FloatBuffer.init)
        for g in buffers {
            Lion.update(parameters: p.pointer, gradients: g.pointer, m: m.pointer, count: 2,
                        learningRate: Float(lr), beta1: Float(b1), beta2: Float(b2), decay: Float(1 - lr * wd))
        }
        var q = Self.p0.map(Double.init), mm = [0.0, 0.0]
        for g in gradients {
            for i in 0..<2 {
                let c = b1 * mm[i] + (1 - b1) * Double(g[i])
                q[i] = q[i] * (1 - lr * wd) - lr * (c > 0 ? 1 : (c < 0 ? -1 : 0))
                mm[i] = b2 * mm[i] + (1 - b2) * Double(g[i])
            }
        }
        expectClose(p, q, "lion")
        expectClose(m, mm, "lion m")
        // Step 1: −lr·sign(g) after decay; step 2, coordinate 0: c = 0.9·0.005 − 0.8 < 0, so it moves up.
        #expect(abs(q[0] - ((1 * 0.995 - 0.01) * 0.995 + 0.01)) < 1e-12)
    }

    /// Adafactor by hand in Double: factored for a matrix, full for a vector, update clipping at RMS 1.
    static func adafactorByHand(p: inout [Double], gradients: [[Float]], rows: Int, columns: Int, lr: Double, wd: Double) {
        var r = [Double](repeating: 0, count: rows), c = [Double](repeating: 0, count: columns)
        var v = [Double](repeating: 0, count: p.count)
        for (index, g32) in gradients.enumerated() {
            let g = g32.map(Double.init)
            let beta2 = 1 - pow(Double(index + 1), -0.8)
            let sq = g.map { $0 * $0 + 1e-30 }
            var u = [Double](repeating: 0, count: p.count)
            if rows > 1 {
                for i in 0..<rows { r[i] = beta2 * r[i] + (1 - beta2) * (0..<columns).map { sq[i * columns + $0] }.reduce(0, +) / Double(columns) }
                for j in 0..<columns { c[j] = beta2 * c[j] + (1 - beta2) * (0..<rows).map { sq[$0 * columns + j] }.reduce(0, +) / Double(rows) }
                let rMean = r.reduce(0, +) / Double(rows)
                for i in 0..<rows { for j in 0..<columns { u[i * columns + j] = g[i * columns + j] / (r[i] / rMean * c[j]).squareRoot() } }
            } else {
                for i in 0..<p.count { v[i] = beta2 * v[i] + (1 - beta2) * sq[i]; u[i] = g[i] / v[i].squareRoot() }
            }
            let rms = (u.map { $0 * $0 }.reduce(0, +) / Double(u.count)).squareRoot()
            let divisor = max(1, rms / 1.0)
            for i in 0..<p.count { p[i] = p[i] * (1 - lr * wd) - lr * u[i] / divisor }
        }
    }

    @Test func testAdafactor_twoStepsMatchHandComputedValuesFactoredAndVector() {
        let lr = 0.01, wd = 0.1
        let start: [Float] = [0.5, -0.3, 0.8, 0.1, -0.7, 0.2]
        let gradients: [[Float]] = [[0.1, -0.2, 0.3, 0.05, -0.4, 2.0], [0.3, 0.1, -0.2, -0.6, 0.2, 0.1]]
        // 2 × 3 matrix, factored.
        let p = FloatBuffer(start), row = FloatBuffer(count: 2), column = FloatBuffer(count: 3), scratch = FloatBuffer(count: 3)
        let buffers = gradients.map(FloatBuffer.init)
        for (step, g) in buffers.enumerated() {
            Adafactor.updateFactored(parameters: p.pointer, gradients: g.pointer, row: row.pointer, column: column.pointer,
                                     rows: 2, columns: 3, learningRate: Float(lr), decay: Float(1 - lr * wd), step: step + 1,
                                     scratch: scratch.pointer)
        }
        var expected = start.map(Double.init)
        Self.adafactorByHand(p: &expected, gradients: gradients, rows: 2, columns: 3, lr: lr, wd: wd)
        expectClose(p, expected, "adafactor factored")
        // The same six values as a vector: full second moment.
        let q = FloatBuffer(start), v = FloatBuffer(count: 6)
        for (step, g) in buffers.enumerated() {
            Adafactor.updateVector(parameters: q.pointer, gradients: g.pointer, v: v.pointer, count: 6,
                                   learningRate: Float(lr), decay: Float(1 - lr * wd), step: step + 1)
        }
        var expectedVector = start.map(Double.init)
        Self.adafactorByHand(p: &expectedVector, gradients: gradients, rows: 1, columns: 6, lr: lr, wd: wd)
        expectClose(q, expectedVector, "adafactor vector")
        // Step 1 of the vector: v = g², u = sign(g), RMS 1, so every value moves by exactly lr after decay.
        #expect(Adafactor.beta2(step: 1) == 0)
    }

    @Test func testAdamW8bit_twoStepsMatchHandComputedValuesFromTheStoredCodes() {
        let n = 4096, s = AdamWSettings(learningRate: 0.01, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1)
        var generator = RandomGenerator(seed: 11)
        let start = (0..<n).map { _ in generator.nextNormal() }
        let g1 = (0..<n).map { _ in generator.nextNormal() * 0.1 }, g2 = (0..<n).map { _ in generator.nextNormal() * 0.1 }
        let blocks = n / AdamW8bit.blockSize
        let p = FloatBuffer(start), mScale = FloatBuffer(count: blocks), vScale = FloatBuffer(count: blocks)
        let mCodes = ByteBuffer(count: n, repeating: AdamW8bit.signedZero), vCodes = ByteBuffer(count: n, repeating: AdamW8bit.unsignedZero)
        func step(_ g: [Float], _ t: Int) {
            let gradients = FloatBuffer(g)
            defer { withExtendedLifetime(gradients) {} }
            AdamW8bit.update(parameters: p.pointer, gradients: gradients.pointer, mCodes: mCodes.pointer, mScales: mScale.pointer,
                             vCodes: vCodes.pointer, vScales: vScale.pointer, count: n, settings: s, step: t, decays: true)
        }
        step(g1, 1)
        // Step 1 uses exact moments (state starts at 0): AdamW's first step.
        var q = start.map(Double.init)
        var exactM = [Double](repeating: 0, count: n), exactV = exactM
        for i in 0..<n {
            let g = Double(g1[i])
            exactM[i] = 0.1 * g
            exactV[i] = 0.01 * g * g
            q[i] = q[i] * (1 - 0.001) - 0.01 * (exactM[i] / 0.1) / ((exactV[i] / 0.01).squareRoot() + 1e-8)
        }
        expectClose(p, q, "8-bit step 1")
        // The stored codes approximate the exact moments to half a code gap of the block scale.
        func dequantized() -> (m: [Double], v: [Double]) {
            let m = (0..<n).map { Double(AdamW8bit.signedMap[Int(mCodes.pointer[$0])] * mScale[$0 / AdamW8bit.blockSize]) }
            let v = (0..<n).map { Double(AdamW8bit.unsignedMap[Int(vCodes.pointer[$0])] * vScale[$0 / AdamW8bit.blockSize]) }
            return (m, v)
        }
        let (m1, v1) = dequantized()
        for i in 0..<n {
            let b = i / AdamW8bit.blockSize
            #expect(abs(m1[i] - exactM[i]) <= Double(Self.codeTolerance * mScale[b]))
            #expect(abs(v1[i] - exactV[i]) <= Double(Self.codeTolerance * vScale[b]))
        }
        // Step 2 by hand from the dequantized state.
        let before = p.array.map(Double.init)
        step(g2, 2)
        for i in 0..<n {
            let g = Double(g2[i])
            let m = 0.9 * m1[i] + 0.1 * g, v = 0.99 * v1[i] + 0.01 * g * g
            q[i] = before[i] * (1 - 0.001) - 0.01 / (1 - 0.81) * m / (v.squareRoot() / (1 - 0.9801).squareRoot() + 1e-8)
        }
        expectClose(p, q, "8-bit step 2")
    }

    @Test func testAdamW8bit_dynamicMapsMatchBitsandbytes() {
        let signed = AdamW8bit.signedMap, unsigned = AdamW8bit.unsignedMap
        #expect(signed.count == 256 && unsigned.count == 256)
        #expect(signed == signed.sorted() && unsigned == unsigned.sorted())
        #expect(signed.last == 1 && unsigned.last == 1 && unsigned.first == 0 && signed.contains(0))
        // Most negative signed code: −(mean of the last two linspace(0.1, 1, 65) boundaries).
        #expect(abs(signed[0] - -(1 - 0.9 / 128)) < 1e-6)
        // Smallest non-zero magnitudes: 1e-6 × 0.55 (signed, 2 boundaries) and 1e-6 × 0.325 (unsigned, 3).
        #expect(abs(signed.filter { $0 > 0 }.min()! - 0.55e-6) < 1e-12)
        #expect(abs(unsigned.filter { $0 > 0 }.min()! - 0.325e-6) < 1e-12)
        // The indexed search equals the linear scan at every code, next to it, at every midpoint and
        // next to it, and at random and out-of-range values.
        var probes: [Float] = [-3, -2, -1.5, -1, -0.5, -1e-7, -1e-30, 0, 1e-30, 3e-7, 0.123, 0.999, 1, 1.5, 2, 3]
        for map in [signed, unsigned] {
            for k in 0..<256 {
                probes += [map[k], map[k].nextUp, map[k].nextDown]
                if k < 255 {
                    let mid = (map[k] + map[k + 1]) / 2
                    probes += [mid, mid.nextUp, mid.nextDown]
                }
            }
        }
        var generator = RandomGenerator(seed: 2)
        for _ in 0..<20_000 {
            let magnitude = Float(pow(10, Double(generator.nextUniform()) * 8 - 8))   // 1e-8 … 1
            probes.append(generator.nextUniform() < 0.5 ? -magnitude : magnitude)
        }
        var mismatches = 0
        for x in probes {
            if AdamW8bit.nearest(signed: true, x) != AdamW8bit.referenceNearest(signed, x) { mismatches += 1 }
            if AdamW8bit.nearest(signed: false, x) != AdamW8bit.referenceNearest(unsigned, x) { mismatches += 1 }
        }
        #expect(mismatches == 0, "\(mismatches) of \(2 * probes.count) probes")
        #expect(signed[Int(AdamW8bit.nearest(signed: true, 0))] == 0)
    }

    // MARK: - C kernels against Swift twins

    @Test func testKernels_cMatchesSwiftReferenceForAdamAdafactorAndAdamW8bit() {
        var generator = RandomGenerator(seed: 5)
        let rows = 40, columns = 300, n = rows * columns
        let start = (0..<n).map { _ in generator.nextNormal() }
        let grads = (0..<3).map { _ in FloatBuffer((0..<n).map { _ in generator.nextNormal() * 0.05 }) }
        let s = AdamWSettings(learningRate: 0.01, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1)

        let a = FloatBuffer(start), b = FloatBuffer(start)
        let ma = FloatBuffer(count: n), va = FloatBuffer(count: n), mb = FloatBuffer(count: n), vb = FloatBuffer(count: n)
        for t in 1...3 {
            Adam.update(parameters: a.pointer, gradients: grads[t - 1].pointer, m: ma.pointer, v: va.pointer, count: n, settings: s, step: t, decays: true)
            Adam.referenceUpdate(parameters: b.pointer, gradients: grads[t - 1].pointer, m: mb.pointer, v: vb.pointer, count: n, settings: s, step: t, decays: true)
        }
        #expect(maxRelativeError(a.array, b.array) < Self.kernelTolerance)

        let c = FloatBuffer(start), d = FloatBuffer(start)
        let rc = FloatBuffer(count: rows), cc = FloatBuffer(count: columns), rd = FloatBuffer(count: rows), cd = FloatBuffer(count: columns)
        let scratch = FloatBuffer(count: columns)
        let e = FloatBuffer(start), f = FloatBuffer(start), ve = FloatBuffer(count: n), vf = FloatBuffer(count: n)
        for t in 1...3 {
            Adafactor.updateFactored(parameters: c.pointer, gradients: grads[t - 1].pointer, row: rc.pointer, column: cc.pointer,
                                     rows: rows, columns: columns, learningRate: 0.01, decay: 0.999, step: t, scratch: scratch.pointer)
            Adafactor.referenceFactored(parameters: d.pointer, gradients: grads[t - 1].pointer, row: rd.pointer, column: cd.pointer,
                                        rows: rows, columns: columns, learningRate: 0.01, decay: 0.999, step: t)
            Adafactor.updateVector(parameters: e.pointer, gradients: grads[t - 1].pointer, v: ve.pointer, count: n,
                                   learningRate: 0.01, decay: 0.999, step: t)
            Adafactor.referenceVector(parameters: f.pointer, gradients: grads[t - 1].pointer, v: vf.pointer, count: n,
                                      learningRate: 0.01, decay: 0.999, step: t)
        }
        #expect(maxRelativeError(c.array, d.array) < Self.kernelTolerance)
        #expect(maxRelativeError(rc.array, rd.array) < Self.kernelTolerance)
        #expect(maxRelativeError(cc.array, cd.array) < Self.kernelTolerance)
        #expect(maxRelativeError(e.array, f.array) < Self.kernelTolerance)

        let blocks = (n + AdamW8bit.blockSize - 1) / AdamW8bit.blockSize
        let x = FloatBuffer(start), y = FloatBuffer(start)
        let xm = ByteBuffer(count: n, repeating: AdamW8bit.signedZero), ym = ByteBuffer(count: n, repeating: AdamW8bit.signedZero)
        let xv = ByteBuffer(count: n, repeating: AdamW8bit.unsignedZero), yv = ByteBuffer(count: n, repeating: AdamW8bit.unsignedZero)
        let xms = FloatBuffer(count: blocks), xvs = FloatBuffer(count: blocks), yms = FloatBuffer(count: blocks), yvs = FloatBuffer(count: blocks)
        for t in 1...3 {
            AdamW8bit.update(parameters: x.pointer, gradients: grads[t - 1].pointer, mCodes: xm.pointer, mScales: xms.pointer,
                             vCodes: xv.pointer, vScales: xvs.pointer, count: n, settings: s, step: t, decays: true)
            AdamW8bit.referenceUpdate(parameters: y.pointer, gradients: grads[t - 1].pointer, mCodes: ym.pointer, mScales: yms.pointer,
                                      vCodes: yv.pointer, vScales: yvs.pointer, count: n, settings: s, step: t, decays: true)
        }
        #expect(maxRelativeError(x.array, y.array) < Self.eightBitKernelTolerance)
        #expect(maxRelativeError(xms.array, yms.array) < Self.eightBitKernelTolerance)
        let flipped = zip(xm.array, ym.array).filter { $0 != $1 }.count
        #expect(flipped < n / 100, "codes that differ between C and Swift: \(flipped) of \(n)")
        // A rounding difference may move a value to the neighbouring code, never further.
        let codeDistance = zip(xm.array, ym.array).map { abs(Int($0) - Int($1)) }.max()!
        #expect(codeDistance <= 1)
    }

    @Test func testOptimizerState_threadCountDoesNotChangeTheBits() {
        let layout = ParameterLayout(GPTDimensions(L: 2, NH: 2, C: 64, maxT: 16, V: 30))
        var generator = RandomGenerator(seed: 3)
        let start = (0..<layout.totalCount).map { _ in generator.nextNormal() * 0.02 }
        let grads = (0..<3).map { _ in FloatBuffer((0..<layout.totalCount).map { _ in generator.nextNormal() * 0.01 }) }
        let h = OptimizerHyperparameters(learningRate: 1e-3, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1, momentum: 0.9)
        for kind in OptimizerKind.allCases {
            var results: [([Float], [OptimizerStateTensor])] = []
            for threads in [1, 2, 3, 8] {
                let p = FloatBuffer(start), state = OptimizerState(kind: kind, layout: layout)
                for g in grads { state.update(parameters: p.pointer, gradients: g.pointer, hyperparameters: h, threads: threads) }
                results.append((p.array, state.exportedTensors()))
            }
            for result in results.dropFirst() {
                #expect(result.0 == results[0].0, "\(kind): parameters")
                #expect(result.1 == results[0].1, "\(kind): state")
            }
        }
        #expect(OptimizerState.partition(layout, parts: 3).count == 3)
        #expect(OptimizerState.partition(layout, parts: 3).flatMap { Array($0) } == Array(0..<layout.tensors.count))
    }

    @Test func testAdam_withoutWeightDecayIsAdamW() {
        var generator = RandomGenerator(seed: 9)
        let n = 999
        let start = (0..<n).map { _ in generator.nextNormal() }
        let g = FloatBuffer((0..<n).map { _ in generator.nextNormal() })
        let s = AdamWSettings(learningRate: 0.01, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0)
        let a = FloatBuffer(start), b = FloatBuffer(start)
        let ma = FloatBuffer(count: n), va = FloatBuffer(count: n), mb = FloatBuffer(count: n), vb = FloatBuffer(count: n)
        for t in 1...3 {
            Adam.update(parameters: a.pointer, gradients: g.pointer, m: ma.pointer, v: va.pointer, count: n, settings: s, step: t, decays: true)
            AdamW.update(parameters: b.pointer, gradients: g.pointer, m: mb.pointer, v: vb.pointer, count: n, settings: s, step: t, decays: true)
        }
        #expect(maxRelativeError(a.array, b.array) < Self.kernelTolerance)
    }

    // MARK: - State bytes

    @Test func testOptimizerState_stateBytesPerTensorAreExact() {
        let layout = ParameterLayout(GPTDimensions(L: 1, NH: 4, C: 128, maxT: 64, V: 65))
        let matrix = layout.tensor(named: "h.0.mlp.c_fc.weight")!, vector = layout.tensor(named: "h.0.ln_1.weight")!
        let small = layout.tensor(named: "wte.weight")!   // 65 × 128 = 8320 ≥ 4096: quantized too
        #expect(matrix.shape == [128, 512] && vector.shape == [128])
        let n = matrix.count
        let expected: [OptimizerKind: (matrix: Int, vector: Int)] = [
            .sgd: (0, 0), .momentum: (4 * n, 512), .nesterov: (4 * n, 512), .adam: (8 * n, 1024), .adamw: (8 * n, 1024),
            .lion: (4 * n, 512), .adafactor: (4 * (128 + 512), 512),
            .adamw8bit: (2 * n + 2 * 4 * (n / 256), 1024),   // vectors under 4096 values keep fp32 m and v
        ]
        for kind in OptimizerKind.allCases {
            #expect(kind.stateBytes(for: matrix) == expected[kind]!.matrix, "\(kind) matrix")
            #expect(kind.stateBytes(for: vector) == expected[kind]!.vector, "\(kind) vector")
            let state = OptimizerState(kind: kind, layout: layout)
            #expect(state.byteCount == kind.stateBytes(for: layout), "\(kind): allocated bytes equal the reported bytes")
        }
        #expect(OptimizerKind.adamw8bit.stateBytes(for: small) == 2 * 8320 + 2 * 4 * 33)
        #expect(OptimizerKind.adamw.stateBytes(for: layout) == 8 * layout.totalCount)
    }

    // MARK: - Checkpoints

    static func optimizerConfig(_ kind: OptimizerKind, in directory: String) throws -> TrainingConfig {
        var config = try TinyTraining.config(in: directory)
        config.embeddingWidth = 64          // c_fc is 64 × 256 = 16384 values: 8-bit state is quantized
        config.optimizer = kind
        if kind == .lion { config.learningRate = 1e-4; config.minLearningRate = 1e-5 }
        if kind == .sgd || kind == .momentum || kind == .nesterov { config.learningRate = 0.1; config.minLearningRate = 0.01 }
        return config
    }

    @Test(arguments: OptimizerKind.allCases)
    func testCheckpoint_roundTripAndBitExactResumeForEachOptimizer(kind: OptimizerKind) throws {
        let directory = TemporaryDirectory()
        let config = try Self.optimizerConfig(kind, in: directory.path)
        let straight = try TrainingRun.start(config: config, directory: directory.path + "/straight")
        let reference = try (0..<8).map { _ in try straight.step().loss }
        #expect(reference.allSatisfy { $0.isFinite })
        #expect(reference.last! < reference.first!, "\(kind) lowers the loss in 8 steps: \(reference)")

        let first = try TrainingRun.start(config: config, directory: directory.path + "/split")
        var split = try (0..<4).map { _ in try first.step().loss }   // writes ckpt-000004
        let file = try SafetensorsFile(path: directory.path + "/split/ckpt-000004/" + Checkpoint.optimizerName)
        #expect(file.metadata["optimizer"] == kind.rawValue)
        #expect(file.metadata["optimizer_step"] == "4")
        if kind == .adamw8bit {
            #expect(file.info("m_q.h.0.mlp.c_fc.weight")?.dataType == .u8)
            #expect(file.info("m.h.0.ln_1.weight")?.dataType == .f32)
        }
        first.close()   // the writing process ends; its lock goes with it
        let second = try TrainingRun.resume(directory: directory.path + "/split")
        #expect(second.trainer.optimizerState.kind == kind)
        #expect(second.trainer.optimizerState.exportedTensors() == first.trainer.optimizerState.exportedTensors())
        split += try (0..<4).map { _ in try second.step().loss }
        #expect(split == reference)
        #expect(second.trainer.model.parameters.array == straight.trainer.model.parameters.array)
        #expect(second.trainer.optimizerState.exportedTensors() == straight.trainer.optimizerState.exportedTensors())
        let ledger = TrainingSession.ledger(of: second.trainer)
        #expect(ledger.optimizer == kind.stateBytes(for: second.trainer.model.layout))
    }

    @Test func testCheckpoint_optimizerStateOfAnotherOptimizerIsAClearError() throws {
        let directory = TemporaryDirectory()
        let config = try Self.optimizerConfig(.adamw, in: directory.path)
        let run = try TrainingRun.start(config: config, directory: directory.path + "/run")
        for _ in 0..<4 { try run.step() }
        var lionConfig = config
        lionConfig.optimizer = .lion
        let data = try TrainingRun.prepareData(lionConfig)
        let trainer = try Trainer(config: lionConfig, tokenizer: data.tokenizer, data: data.splits)
        let path = directory.path + "/run/ckpt-000004/" + Checkpoint.optimizerName
        let error = #expect(throws: WhittleError.self) {
            try trainer.restoreOptimizer(from: path, trainerStep: 4, savedOptimizer: .lion)
        }
        #expect(error?.message.contains("holds adamw state") == true)
        #expect(error?.message.contains("optimizer = \"lion\"") == true)
    }

    @Test func testCheckpoint_olderAdamWStateWithoutOptimizerStepStillLoads() throws {
        let directory = TemporaryDirectory()
        let config = try Self.optimizerConfig(.adamw, in: directory.path)
        let data = try TrainingRun.prepareData(config)
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
        for _ in 0..<3 { try trainer.trainStep() }
        // The format before the optimizer choice: m./v. tensors, metadata optimizer = adamw and step only.
        let moments = trainer.optimizerState.exportedTensors().map { tensor -> (name: String, shape: [Int], values: [Float]) in
            guard case .float32(let values) = tensor.values else { preconditionFailure() }
            return (tensor.name, tensor.shape, values)
        }
        let path = directory.path + "/old-optimizer.safetensors"
        try FileIO.writeFile(try SafetensorsWriter.serialize(tensors: moments, metadata: ["optimizer": "adamw", "step": "3"]),
                             to: path, sync: false)
        let fresh = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
        try fresh.restoreOptimizer(from: path, trainerStep: 3, savedOptimizer: .adamw)
        #expect(fresh.optimizerState.step == 3)
        #expect(fresh.optimizerState.exportedTensors() == trainer.optimizerState.exportedTensors())
    }

    @Test func testResume_withAnotherOptimizerOnPurposeStartsItFresh() throws {
        let directory = TemporaryDirectory()
        let config = try Self.optimizerConfig(.adamw, in: directory.path)
        let run = try TrainingRun.start(config: config, directory: directory.path + "/run")
        for _ in 0..<4 { try run.step() }
        run.close()   // the writing process ends; its lock goes with it
        let resumed = try TrainingRun.resume(directory: directory.path + "/run", overrides: ["optimizer=adafactor"])
        #expect(resumed.trainer.optimizerState.kind == .adafactor)
        #expect(resumed.trainer.optimizerState.step == 0)
        #expect(resumed.trainer.notes.count == 1 && resumed.trainer.notes[0].contains("fresh state"))
        #expect(try resumed.step().loss.isFinite)
        resumed.close()   // the writing process ends; its lock goes with it
        let again = try TrainingRun.resume(directory: directory.path + "/run", overrides: ["optimizer=adam"])
        #expect(again.trainer.optimizerState.step == 4, "Adam keeps AdamW's m, v and step count")
    }

    // MARK: - Validation

    @Test func testValidation_invalidHyperparametersAreRejectedNamingTheField() throws {
        let cases: [(String, (inout TrainingConfig) -> Void)] = [
            ("learning_rate", { $0.learningRate = -1 }), ("learning_rate", { $0.learningRate = .infinity }),
            ("beta1", { $0.beta1 = 1 }), ("beta2", { $0.beta2 = -0.1 }), ("beta2", { $0.beta2 = .nan }),
            ("eps", { $0.epsilon = 0 }), ("weight_decay", { $0.weightDecay = -0.1 }),
            ("momentum", { $0.momentum = 1 }), ("momentum", { $0.optimizer = .nesterov; $0.momentum = 0 }),
        ]
        for (field, change) in cases {
            var config = TrainingConfig()
            change(&config)
            let error = #expect(throws: WhittleError.self) { try config.validate() }
            #expect(error?.message.hasPrefix(field) == true || error?.message.contains(field) == true,
                    "\(field): \(error?.message ?? "no error")")
        }
        // Per optimizer: only the settings it reads are checked.
        let h = OptimizerHyperparameters(learningRate: 1e-3, beta1: 1.5, beta2: 2, epsilon: 0, weightDecay: 0, momentum: 0)
        #expect(OptimizerKind.sgd.problem(with: h) == nil)
        #expect(OptimizerKind.adafactor.problem(with: h) == nil)
        #expect(OptimizerKind.lion.problem(with: h)?.field == "beta1")
        #expect(OptimizerKind.adamw8bit.problem(with: h)?.field == "beta1")
        #expect(OptimizerKind.nesterov.problem(with: h)?.field == "momentum")
        #expect(OptimizerKind.momentum.problem(with: h) == nil)
        var config = TrainingConfig()
        #expect(throws: WhittleError.self) { try config.apply(override: "optimizer=adamax") }
        try config.apply(overrides: ["optimizer=lion", "momentum=0.8"])
        #expect(config.optimizer == .lion && config.momentum == 0.8)
        #expect(try TrainingConfig(toml: config.tomlString(), source: "test") == config)
    }

    // MARK: - Switching mid-run

    @Test func testTrainer_switchingOptimizerMidRunSaysWhatHappensToTheState() throws {
        let directory = TemporaryDirectory()
        let config = try Self.optimizerConfig(.adamw, in: directory.path)
        let data = try TrainingRun.prepareData(config)
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits)
        for _ in 0..<3 { try trainer.trainStep() }
        let moments = trainer.optimizerState.exportedTensors()

        let toAdam = try trainer.update { $0.optimizer = .adam }
        #expect(toAdam?.contains("keeps") == true)
        #expect(trainer.optimizerState.kind == .adam && trainer.optimizerState.step == 3)
        #expect(trainer.optimizerState.exportedTensors() == moments)

        let toLion = try trainer.update { $0.optimizer = .lion; $0.learningRate = 1e-4; $0.minLearningRate = 1e-5 }
        #expect(toLion?.contains("fresh state") == true, "\(toLion ?? "")")
        #expect(trainer.optimizerState.kind == .lion && trainer.optimizerState.step == 0)
        #expect(trainer.optimizerState.byteCount == OptimizerKind.lion.stateBytes(for: trainer.model.layout))
        #expect(trainer.notes.count == 2)
        try trainer.trainStep()
        #expect(trainer.optimizerState.step == 1 && trainer.step == 4)

        #expect(try trainer.update { $0.learningRate = 2e-4 } == nil)
        #expect(throws: WhittleError.self) { try trainer.update { $0.optimizer = .nesterov; $0.momentum = 0 } }
        #expect(trainer.config.optimizer == .lion)
        let toSGD = try trainer.update { $0.optimizer = .sgd }
        #expect(toSGD?.contains("→ 0 bytes") == true)
        try trainer.trainStep()
    }
}
