// The bf16 GEMM (CKernels' ck_gemm_bf16, ck_gemm_bf16_out_bf16) against a plain Double reference of
// the bf16 inputs, on both the AVX512-BF16 path (when the CPU has it) and the portable path: all four
// transpose combinations, accumulate on and off, odd and tiny sizes, padded row strides, sizes that
// cross the kernel's blocks. And the bf16 / fp16 conversions against independent references
// (exhaustive where the input space is 65536 patterns).

import CKernels
import Testing
import WhittleKernels

@Suite struct Bf16GemmTests {
    /// Which implementation a test runs: the portable one, or the dispatched one (the AVX512-BF16 kernels
    /// on CPUs that have them, tested by `Bf16GemmAVX512Tests`; elsewhere the portable ones again).
    enum Path: String, CaseIterable, Sendable { case dispatched, portable }

    struct Case: Sendable, CustomTestStringConvertible {
        let transA: Bool, transB: Bool, M: Int, N: Int, K: Int, pad: Int
        var testDescription: String { "ta=\(transA) tb=\(transB) M=\(M) N=\(N) K=\(K) pad=\(pad)" }
    }

    static let sizes = [1, 2, 3, 15, 16, 17, 31, 33, 64, 65]

    /// Every size appears in every dimension for each transpose combination, paired off by a fixed
    /// stride (a full cross product would be 4000 cases), plus shapes that span several blocks.
    static let cases: [Case] = {
        var cases: [Case] = []
        for combo in 0..<4 {
            let (ta, tb) = (combo & 1 == 1, combo & 2 == 2)
            for i in 0..<sizes.count {
                for j in 0..<3 {
                    let M = sizes[i], N = sizes[(i * 3 + j * 7 + combo) % sizes.count]
                    let K = sizes[(i * 7 + j * 3 + combo * 5) % sizes.count]
                    cases.append(Case(transA: ta, transB: tb, M: M, N: N, K: K, pad: (i + j) % 3 == 0 ? 0 : 3))
                }
            }
            // K beyond one k block (384), M beyond one row block (192), N ending in a 16-wide panel.
            cases.append(Case(transA: ta, transB: tb, M: 194, N: 17, K: 393, pad: 1))
            cases.append(Case(transA: ta, transB: tb, M: 3, N: 47, K: 801, pad: 0))
        }
        return cases
    }()

    /// Random bf16 bit patterns of values in (-1, 1) (a xorshift stream: debug builds are slow at
    /// Float.random for the large cases).
    static func randomBf16(_ count: Int, seed: UInt64) -> [UInt16] {
        var state = seed | 1
        return [UInt16](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                // Sign, exponent 2^-1...2^-8, 7 random mantissa bits.
                let sign = UInt16(state & 1) << 15, exponent = UInt16(126 - (state >> 1) % 8) << 7
                buffer[i] = sign | exponent | UInt16((state >> 8) & 0x7f)
            }
            initialized = count
        }
    }

    static func value(_ h: UInt16) -> Double { Double(Float(bitPattern: UInt32(h) << 16)) }

    /// op(A) op(B) summed in Double, and per element the sum of the terms' magnitudes (the error
    /// scale), both M x N row-major.
    static func reference(_ c: Case, _ o: Operands) -> (sum: [Double], scale: [Double]) {
        // op(A) as M x K and op(B) as N x K, so the inner loop is contiguous.
        var a = [Double](repeating: 0, count: c.M * c.K), b = [Double](repeating: 0, count: c.N * c.K)
        for m in 0..<c.M { for k in 0..<c.K { a[m * c.K + k] = value(c.transA ? o.a[k * o.lda + m] : o.a[m * o.lda + k]) } }
        for n in 0..<c.N { for k in 0..<c.K { b[n * c.K + k] = value(c.transB ? o.b[n * o.ldb + k] : o.b[k * o.ldb + n]) } }
        var sums = [Double](repeating: 0, count: c.M * c.N), scales = sums
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                for m in 0..<c.M {
                    for n in 0..<c.N {
                        var sum = 0.0, scale = 0.0
                        for k in 0..<c.K {
                            let t = a[m * c.K + k] * b[n * c.K + k]
                            sum += t
                            scale += abs(t)
                        }
                        sums[m * c.N + n] = sum
                        scales[m * c.N + n] = scale
                    }
                }
            }
        }
        return (sums, scales)
    }

    struct Operands {
        let a: [UInt16], b: [UInt16], lda: Int, ldb: Int, ldc: Int
    }

    static func operands(_ c: Case, seed: UInt64) -> Operands {
        let lda = (c.transA ? c.M : c.K) + c.pad, ldb = (c.transB ? c.K : c.N) + c.pad, ldc = c.N + c.pad
        let a = randomBf16((c.transA ? c.K : c.M) * lda, seed: seed)
        let b = randomBf16((c.transB ? c.N : c.K) * ldb, seed: seed ^ 0x5555)
        return Operands(a: a, b: b, lda: lda, ldb: ldb, ldc: ldc)
    }

    static func gemm(_ path: Path, _ c: Case, _ o: Operands, _ out: inout [Float], accumulate: Bool) {
        let f = path == .portable ? ck_gemm_bf16_portable : ck_gemm_bf16
        f(c.transA ? 1 : 0, c.transB ? 1 : 0, c.M, c.N, c.K, 1, o.a, o.lda, o.b, o.ldb, &out, o.ldc, accumulate ? 1 : 0)
    }

    static func gemmBf16(_ path: Path, _ c: Case, _ o: Operands, _ out: inout [UInt16], bias: [Float]?) {
        let f = path == .portable ? ck_gemm_bf16_out_bf16_portable : ck_gemm_bf16_out_bf16
        f(c.transA ? 1 : 0, c.transB ? 1 : 0, c.M, c.N, c.K, o.a, o.lda, o.b, o.ldb, &out, o.ldc, bias)
    }

    /// Distance in bf16 ulps between two finite bf16 values (ordered as integers by sign and magnitude).
    static func ulps(_ x: UInt16, _ y: UInt16) -> Int {
        func key(_ h: UInt16) -> Int { h & 0x8000 != 0 ? -Int(h & 0x7fff) : Int(h) }
        return abs(key(x) - key(y))
    }

    /// Round to nearest even through the float's bits (the reference for the kernel's bf16 store).
    static func roundBf16(_ x: Double) -> UInt16 {
        let f = Float(x), u = f.bitPattern
        return UInt16((u &+ 0x7fff &+ ((u >> 16) & 1)) >> 16)
    }

    @Test(arguments: cases)
    func testGemm_matchesReference(c: Case) { Self.checkAgainstReference(c, paths: [.portable]) }

    /// Per case, on `paths` and against one Double reference:
    /// fp32 output, overwrite and accumulate: |C − ref| ≤ 1e-5 √K Σ|terms| (+ |C₀| when accumulating);
    /// bf16 output with and without bias: within 1 bf16 ulp of the rounded reference (or within the
    /// fp32 bound, for sums that cancel to much less than their terms).
    /// Elements in the ldc padding past the N columns of each row stay untouched.
    static func checkAgainstReference(_ c: Case, paths: [Path]) {
        let o = Self.operands(c, seed: UInt64(c.M * 10_007 + c.N * 101 + c.K))
        let (sums, scales) = Self.reference(c, o)
        var generator = RandomGenerator(seed: 9)
        let bias = (0..<c.N).map { _ in Float.random(in: -1..<1, using: &generator) }
        let initial: [Float] = (0..<(c.M * o.ldc)).map { i in Float(i % 13) * 0.25 - 1.5 }
        let sentinel: Float = 12345
        for path in paths {
            for accumulate in [false, true] {
                var out = accumulate ? initial : [Float](repeating: .nan, count: c.M * o.ldc)
                for i in 0..<out.count where i % o.ldc >= c.N { out[i] = sentinel }
                Self.gemm(path, c, o, &out, accumulate: accumulate)
                var worst = 0.0, padding = 0
                for m in 0..<c.M {
                    for n in 0..<o.ldc {
                        let got = out[m * o.ldc + n]
                        if n >= c.N { if got != sentinel { padding += 1 }; continue }
                        let (sum, scale) = (sums[m * c.N + n], scales[m * c.N + n])
                        let c0 = accumulate ? Double(initial[m * o.ldc + n]) : 0
                        let bound = 1e-5 * Double(c.K).squareRoot() * (scale + abs(c0)) + 1e-30
                        let error = abs(Double(got) - (sum + c0)) / bound
                        worst = error.isNaN ? .infinity : max(worst, error)
                    }
                }
                #expect(worst <= 1, "\(path) accumulate=\(accumulate): error / bound = \(worst)")
                #expect(padding == 0, "\(path) accumulate=\(accumulate)")
            }
            for withBias in [false, true] {
                var out = [UInt16](repeating: 0xbeef, count: c.M * o.ldc)
                Self.gemmBf16(path, c, o, &out, bias: withBias ? bias : nil)
                var failures = 0
                for m in 0..<c.M {
                    for n in 0..<o.ldc {
                        let got = out[m * o.ldc + n]
                        if n >= c.N { if got != 0xbeef { failures += 1 }; continue }
                        let (sum, scale) = (sums[m * c.N + n], scales[m * c.N + n])
                        let b = withBias ? Double(bias[n]) : 0
                        let close = abs(Self.value(got) - (sum + b)) <= 1e-5 * Double(c.K).squareRoot() * (scale + abs(b))
                        if Self.ulps(got, Self.roundBf16(sum + b)) > 1 && !close { failures += 1 }
                    }
                }
                #expect(failures == 0, "\(path) bf16 out, bias=\(withBias)")
            }
        }
    }

    /// K = 0 writes zeros (or the bias), or leaves C as it was when accumulating; M = 0 or N = 0 write nothing.
    @Test(arguments: [Path.portable])
    func testGemm_emptyDimensions(path: Path) {
        let a = [UInt16](repeating: 0x3f80, count: 16), b = a
        var c = [Float](repeating: 7, count: 6)
        let gemm = path == .portable ? ck_gemm_bf16_portable : ck_gemm_bf16
        let gemm16 = path == .portable ? ck_gemm_bf16_out_bf16_portable : ck_gemm_bf16_out_bf16
        gemm(0, 0, 2, 3, 0, 1, a, 1, b, 3, &c, 3, 1)
        #expect(c == [Float](repeating: 7, count: 6))
        gemm(0, 0, 2, 3, 0, 1, a, 1, b, 3, &c, 3, 0)
        #expect(c == [Float](repeating: 0, count: 6))
        gemm(0, 0, 0, 3, 4, 1, a, 4, b, 3, &c, 3, 0)
        gemm(0, 0, 2, 0, 4, 1, a, 4, b, 3, &c, 3, 0)
        #expect(c == [Float](repeating: 0, count: 6))
        var c16 = [UInt16](repeating: 7, count: 6)
        gemm16(0, 0, 2, 3, 0, a, 1, b, 3, &c16, 3, [1, 2, 3])
        #expect(c16 == [0x3f80, 0x4000, 0x4040, 0x3f80, 0x4000, 0x4040])
    }

    /// A bf16 output larger than the kernel's bf16-mode blocks (K = 2500 in one block shrinks the row
    /// block to 64 and the column block to 832). Small-integer operands make every partial sum exact
    /// in fp32, so the result must be exactly the fp32 path's result rounded.
    @Test func testGemm_bf16OutLargeKMatchesRoundedFp32() {
        let c = Case(transA: false, transB: true, M: 70, N: 850, K: 2500, pad: 0)
        let random = Self.operands(c, seed: 77)
        // -3...3 as bf16 (exact), from the random patterns' low bits.
        let table: [UInt16] = [-3, -2, -1, 0, 1, 2, 3, 1].map { (v: Float) in UInt16(v.bitPattern >> 16) }
        let o = Operands(a: random.a.map { table[Int($0 & 7)] }, b: random.b.map { table[Int($0 & 7)] },
                         lda: random.lda, ldb: random.ldb, ldc: random.ldc)
        var f32 = [Float](repeating: 0, count: c.M * c.N)
        Self.gemm(.dispatched, c, o, &f32, accumulate: false)
        var out = [UInt16](repeating: 0, count: c.M * c.N)
        Self.gemmBf16(.dispatched, c, o, &out, bias: nil)
        #expect(out.indices.allSatisfy { out[$0] == Self.roundBf16(Double(f32[$0])) })
        #expect(f32.contains { abs($0) > 100 }) // the data is not degenerate
    }

    // MARK: - Conversions

    @Test(arguments: [Path.portable])
    func testBf16ToF32_exhaustive(path: Path) {
        let all = (0...0xffff).map { UInt16($0) }
        var out = [Float](repeating: 0, count: all.count)
        (path == .portable ? ck_bf16_to_f32_portable : ck_bf16_to_f32)(all, &out, all.count)
        #expect(all.indices.allSatisfy { out[$0].bitPattern == UInt32(all[$0]) << 16 })
    }

    /// Nearest bf16 by comparing distances in Double; ties to even; beyond the largest bf16's halfway
    /// point to 2^128 goes to inf; NaN is any NaN of the same sign.
    static func nearestBf16(_ x: Float) -> UInt16 {
        let u = x.bitPattern
        let down = UInt16(u >> 16), up = down &+ 1
        if u & 0xffff == 0 || x.isInfinite { return down }
        func magnitude(_ h: UInt16) -> Double {
            h & 0x7fff == 0x7f80 ? 0x1p128 : abs(value(h))
        }
        let (lo, hi, ax) = (magnitude(down), magnitude(up), Double(abs(x)))
        if ax - lo < hi - ax { return down }
        if ax - lo > hi - ax { return up }
        return down & 1 == 0 ? down : up
    }

    static func edgeFloats() -> [Float] {
        var values: [Float] = [0, -0, 1, -1, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                               .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                               .infinity, -.infinity, .nan, -.nan, .signalingNaN, 65504, 65520, 65519.99,
                               1e-9, 1e-5, 6e-8, 2.9e-8, 1e30]
        // Halfway and nearby cases, including subnormal ones and the largest finite bf16's neighbourhood.
        for bits: UInt32 in [0x3f80_8000, 0x3f81_8000, 0x3f80_8001, 0x3f80_7fff, 0x0000_8000, 0x0001_8000,
                             0x0000_7fff, 0x807f_8000, 0x7f7f_8000, 0x7f7f_7fff, 0x7f7e_8000, 0xc77f_f000,
                             0x3880_0000, 0x387f_e000, 0x3300_0000, 0x3300_0001, 0x3380_0000, 0x33c0_0000,
                             0x7f80_0001, 0xff80_0001, 0x7fc0_0000, 0x7fff_ffff] {
            values.append(Float(bitPattern: bits))
        }
        return values
    }

    static func randomFloats(_ count: Int, seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { i in
            // Random bit patterns cover every exponent (and NaNs, infs, subnormals); the others are
            // ordinary gradient-like magnitudes.
            i % 2 == 0 ? Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator))
                : Float.random(in: -1..<1, using: &generator) * Float(bitPattern: UInt32(Int.random(in: 87...147, using: &generator)) << 23)
        }
    }

    @Test(arguments: [Path.portable])
    func testF32ToBf16_roundsToNearestEven(path: Path) {
        let xs = Self.edgeFloats() + Self.randomFloats(200_003, seed: 3)
        var out = [UInt16](repeating: 0, count: xs.count)
        _ = (path == .portable ? ck_f32_to_bf16_portable : ck_f32_to_bf16)(xs, &out, xs.count)
        var failures: [String] = []
        for (x, h) in zip(xs, out) {
            let ok: Bool
            if x.isNaN {
                ok = h & 0x7f80 == 0x7f80 && h & 0x7f != 0 && (h & 0x8000 != 0) == (x.sign == .minus)
            } else {
                ok = h == Self.nearestBf16(x)
            }
            if !ok && failures.count < 5 { failures.append("\(x) (0x\(String(x.bitPattern, radix: 16))) -> 0x\(String(h, radix: 16))") }
        }
        #expect(failures.isEmpty, "\(failures)")
        // Spot checks of the reference itself: ties to even, overflow, subnormal ties.
        #expect(Self.nearestBf16(Float(bitPattern: 0x3f80_8000)) == 0x3f80)
        #expect(Self.nearestBf16(Float(bitPattern: 0x3f81_8000)) == 0x3f82)
        #expect(Self.nearestBf16(Float(bitPattern: 0x7f7f_8000)) == 0x7f80)
        #expect(Self.nearestBf16(Float(bitPattern: 0x0001_8000)) == 0x0002)
    }

    @Test(arguments: [Path.portable])
    func testF16ToF32_exhaustive(path: Path) {
        let all = (0...0xffff).map { UInt16($0) }
        var out = [Float](repeating: 0, count: all.count)
        (path == .portable ? ck_f16_to_f32_portable : ck_f16_to_f32)(all, &out, all.count)
        var failures = 0
        for (h, f) in zip(all, out) {
            let expected = Float(Float16(bitPattern: h))
            if expected.isNaN {
                if !f.isNaN || f.sign != expected.sign { failures += 1 }
            } else if f.bitPattern != expected.bitPattern {
                failures += 1
            }
        }
        #expect(failures == 0)
    }

    @Test(arguments: [Path.portable])
    func testF32ToF16_roundsToNearestEvenAndCountsFlushes(path: Path) {
        let convert = path == .portable ? ck_f32_to_f16_portable : ck_f32_to_f16
        let xs = Self.edgeFloats() + Self.randomFloats(100_001, seed: 4)
        var out = [UInt16](repeating: 0, count: xs.count)
        let flushed = convert(xs, &out, xs.count)
        var failures: [String] = [], expectedFlushed = 0
        for (x, h) in zip(xs, out) {
            let expected = Float16(x).bitPattern // Swift's conversion rounds to nearest even
            let ok = x.isNaN ? (h & 0x7c00 == 0x7c00 && h & 0x3ff != 0 && (h & 0x8000 != 0) == (x.sign == .minus))
                : h == expected
            if !ok && failures.count < 5 { failures.append("\(x) -> 0x\(String(h, radix: 16)) (expected 0x\(String(expected, radix: 16)))") }
            if x != 0 && x.isFinite && expected & 0x7fff == 0 { expectedFlushed += 1 }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(flushed == expectedFlushed)

        // The count: 1e-9 and 2.9e-8 (below half the smallest subnormal) flush; 1e-5 and 6e-8 (a
        // subnormal) do not; zeros, infs, NaNs and overflow to inf are not counted.
        let small: [Float] = [1e-9, -1e-9, 2.9e-8, 1e-5, 6e-8, 0, -0, .infinity, .nan, 1e30]
        var small16 = [UInt16](repeating: 0, count: small.count)
        #expect(convert(small, &small16, small.count) == 3)
        #expect(small16[3] != 0 && small16[4] == 1 && small16[9] == 0x7c00)
    }
}

/// The same checks on the AVX512-BF16 kernels the dispatched functions use. Skipped, with the reason,
/// on CPUs without AVX512-BF16 (such as the AMD Zen 3 these tests were written on), where the
/// dispatched functions run the portable paths that `Bf16GemmTests` already checks.
@Suite(.enabled(if: ck_has_avx512_bf16() != 0,
                "this CPU has no AVX512-BF16: the bf16 GEMM and conversions run their portable paths here, covered by Bf16GemmTests"))
struct Bf16GemmAVX512Tests {
    @Test(arguments: Bf16GemmTests.cases)
    func testGemm_avx512MatchesReference(c: Bf16GemmTests.Case) { Bf16GemmTests.checkAgainstReference(c, paths: [.dispatched]) }

    @Test func testGemm_avx512EmptyDimensions() { Bf16GemmTests().testGemm_emptyDimensions(path: .dispatched) }
    @Test func testBf16ToF32_avx512Exhaustive() { Bf16GemmTests().testBf16ToF32_exhaustive(path: .dispatched) }
    @Test func testF32ToBf16_avx512RoundsToNearestEven() { Bf16GemmTests().testF32ToBf16_roundsToNearestEven(path: .dispatched) }
    @Test func testF16ToF32_avx512Exhaustive() { Bf16GemmTests().testF16ToF32_exhaustive(path: .dispatched) }
    @Test func testF32ToF16_avx512RoundsToNearestEvenAndCountsFlushes() {
        Bf16GemmTests().testF32ToF16_roundsToNearestEvenAndCountsFlushes(path: .dispatched)
    }
}
