// FastMath.exp and FastMath.tanh against Foundation's (Double) functions over dense grids, and
// their behaviour at and beyond the ends of the range (clamping, saturation, NaN).

import Foundation
import Testing
import WhittleKernels

@Suite struct FastMathTests {
    /// Max |fast − exact| / exact for exp over [-87, 88] (measured 2.5e-7, about 4 ulp, near x = 28).
    static let expRelativeTolerance: Float = 5e-7
    /// Max |fast − exact| for tanh over [-20, 20] (measured 1.9e-7, near x = −0.86).
    static let tanhAbsoluteTolerance: Float = 1e-6
    /// Grid spacing: ~1.75 M exp points, 4 M tanh points.
    static let expStep: Float = 1e-4
    static let tanhStep: Float = 1e-5

    @Test func testExp_matchesFoundationOverFullRange() {
        var worst: Double = 0, worstAt: Float = 0
        var i = 0
        while true {
            let x = -87 + Float(i) * Self.expStep
            if x > 88 { break }
            let exact = Foundation.exp(Double(x))
            let error = abs(Double(FastMath.exp(x)) - exact) / exact
            if error > worst { (worst, worstAt) = (error, x) }
            i += 1
        }
        // Integers and the range ends exactly, too.
        for x: Float in [-87, -1, 0, 1, 88] {
            worst = max(worst, abs(Double(FastMath.exp(x)) - Foundation.exp(Double(x))) / Foundation.exp(Double(x)))
        }
        report("FastMath.exp relative (worst at \(worstAt))", Float(worst))
        #expect(Float(worst) < Self.expRelativeTolerance, "worst relative error \(worst) at x = \(worstAt)")
        #expect(FastMath.exp(0) == 1)
    }

    @Test func testExp_clampsOutsideRangeToFiniteValues() {
        // Below -87 the input is clamped: the result is e^-87 ≈ 1.6e-38, tiny, positive and finite.
        for x: Float in [-87.5, -100, -1e4, -.greatestFiniteMagnitude, -.infinity] {
            let y = FastMath.exp(x)
            #expect(y.isFinite && y >= 0 && y < 2e-38, "exp(\(x)) = \(y)")
        }
        // Above 88 it is clamped to e^88 ≈ 1.65e38: finite, so softmax sums never become inf.
        for x: Float in [88.5, 100, .greatestFiniteMagnitude, .infinity] {
            let y = FastMath.exp(x)
            #expect(y.isFinite && y > 1.6e38, "exp(\(x)) = \(y)")
        }
    }

    @Test func testExp_propagatesNaN() {
        // Measured: exp(NaN) is NaN. The clamp min(max(x, -87), 88) keeps a NaN x (Swift's max/min
        // return their first argument when the comparison fails), the polynomial then is NaN, and
        // the 2^n scale cannot repair that. (Int32(NaN) for n is unchecked only because kernels are
        // built -Ounchecked; a checked build would trap there instead.) So a NaN logit or score stays
        // visible downstream rather than turning into a plausible number; tanh inherits this.
        #expect(FastMath.exp(.nan).isNaN)
        #expect(FastMath.tanh(.nan).isNaN)
    }

    @Test func testTanh_matchesFoundationOverRange() {
        var worst: Double = 0, worstAt: Float = 0
        var i = 0
        while true {
            let x = -20 + Float(i) * Self.tanhStep
            if x > 20 { break }
            let error = abs(Double(FastMath.tanh(x)) - Foundation.tanh(Double(x)))
            if error > worst { (worst, worstAt) = (error, x) }
            i += 1
        }
        report("FastMath.tanh absolute (worst at \(worstAt))", Float(worst))
        #expect(Float(worst) < Self.tanhAbsoluteTolerance, "worst absolute error \(worst) at x = \(worstAt)")
        #expect(FastMath.tanh(0) == 0)
    }

    @Test func testTanh_saturatesToPlusMinusOneWithoutNaN() {
        for x: Float in [10, 20, 44, 45, 50, 100, 1e10, .greatestFiniteMagnitude, .infinity] {
            #expect(FastMath.tanh(x) == 1, "tanh(\(x)) = \(FastMath.tanh(x))")
            #expect(FastMath.tanh(-x) == -1, "tanh(\(-x)) = \(FastMath.tanh(-x))")
        }
    }
}

@Suite struct GELUSavedDerivativeTests {
    /// The training pair (forward saving gelu', backward multiplying by it) equals the plain pair.
    @Test func testGELU_savedDerivativeMatchesRecomputedBackward() {
        var generator = RandomGenerator(seed: 11)
        let n = 1000
        let x = (0..<n).map { _ in 4 * generator.nextNormal() }
        let dout = (0..<n).map { _ in generator.nextNormal() }
        let plainOut = FloatBuffer(count: n), plainGrad = FloatBuffer(dout)
        let input = FloatBuffer(x)
        GELU.forward(out: plainOut.pointer, inp: input.pointer, count: n)
        GELU.backward(dinp: plainGrad.pointer, inp: input.pointer, dout: plainGrad.pointer, count: n)
        let savedOut = FloatBuffer(count: n), derivative = FloatBuffer(x), savedGrad = FloatBuffer(dout)
        GELU.forwardSavingDerivative(out: savedOut.pointer, inputThenDerivative: derivative.pointer, count: n)
        GELU.backwardFromDerivative(savedGrad.pointer, derivative: derivative.pointer, count: n)
        #expect(savedOut.array == plainOut.array)
        #expect(maxRelativeError(savedGrad.array, plainGrad.array, floor: 1e-6) < 1e-6)
    }
}
