// Test support for gradient checks: seeded random buffers, the weighted-sum objective
// L = Σ r_i·out_i accumulated in Double, and centred finite differences of such objectives.

import Foundation
import WhittleKernels

extension FloatBuffer {
    /// A buffer of `count` values `offset + scale·N(0,1)` from `generator`.
    static func normal(_ count: Int, scale: Float = 1, offset: Float = 0,
                       using generator: inout RandomGenerator) -> FloatBuffer {
        let buffer = FloatBuffer(count: count)
        for i in 0..<count { buffer[i] = offset + scale * generator.nextNormal() }
        return buffer
    }

    /// A buffer of `count` values uniform in [low, high) from `generator`.
    static func uniform(_ count: Int, in low: Float, _ high: Float,
                        using generator: inout RandomGenerator) -> FloatBuffer {
        let buffer = FloatBuffer(count: count)
        for i in 0..<count { buffer[i] = low + (high - low) * generator.nextUniform() }
        return buffer
    }

    /// Fills every element with `value` (e.g. NaN, to prove an output is fully overwritten).
    func fill(_ value: Float) { pointer.update(repeating: value, count: count) }
}

/// Σ r_i·out_i in Double: the scalar objective whose gradient w.r.t. `out` is exactly `r`.
func weightedSum(_ out: UnsafePointer<Float>, _ r: FloatBuffer) -> Double {
    var total: Double = 0
    for i in 0..<r.count { total += Double(r[i]) * Double(out[i]) }
    return total
}

/// Centred differences (L(x+h) − L(x−h)) / (x+h − x−h) of `objective` w.r.t. each of the `count`
/// Floats at `values`, restoring each after use. The divisor is the perturbation actually stored
/// in Float, so rounding of x±h does not bias the estimate.
func centredDifferences(of values: UnsafeMutablePointer<Float>, count: Int, step h: Float,
                        objective: () -> Double) -> [Float] {
    (0..<count).map { i in
        let saved = values[i]
        values[i] = saved + h
        let plus = objective()
        let upper = Double(values[i])
        values[i] = saved - h
        let minus = objective()
        let lower = Double(values[i])
        values[i] = saved
        return Float((plus - minus) / (upper - lower))
    }
}

/// Prints a measured error when WHITTLE_PRINT_ERRORS is set, so tolerances can be re-measured
/// (`WHITTLE_PRINT_ERRORS=1 swift test --filter Gradient`).
func report(_ label: String, _ error: Float) {
    if ProcessInfo.processInfo.environment["WHITTLE_PRINT_ERRORS"] != nil { print("measured \(label): \(error)") }
}
