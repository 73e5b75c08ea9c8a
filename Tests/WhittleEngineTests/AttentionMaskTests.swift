// The causal mask of both attention kernels: saved probabilities are exactly zero above the
// diagonal and rows sum to one, and no output at position t depends on positions after t.

import Testing
import WhittleKernels

@Suite struct AttentionMaskTests {
    /// |Σ_j probs[t, j] − 1| for a softmax row of at most T Float terms.
    static let rowSumTolerance: Float = 1e-6
    static let B = 2, T = 7, C = 9, NH = 3

    func forward(_ path: KernelPath, qkv: FloatBuffer) -> (out: FloatBuffer, probs: FloatBuffer) {
        let (B, T, C, NH) = (Self.B, Self.T, Self.C, Self.NH)
        let out = FloatBuffer(count: B * T * C), probs = FloatBuffer(count: B * NH * T * T)
        probs.fill(.nan)  // every entry must be written, the upper triangle with exact zeros
        switch path {
        case .fast: Attention.forward(out: out.pointer, probs: probs.pointer, qkv: qkv.pointer,
                                      B: B, T: T, C: C, NH: NH)
        case .reference: AttentionReference.forward(out: out.pointer, probs: probs.pointer, qkv: qkv.pointer,
                                                    B: B, T: T, C: C, NH: NH)
        }
        return (out, probs)
    }

    @Test(arguments: [KernelPath.fast, .reference])
    func testAttention_probsAreCausalAndRowsSumToOne(path: KernelPath) {
        var generator = RandomGenerator(seed: 41)
        let qkv = FloatBuffer.normal(Self.B * Self.T * 3 * Self.C, scale: 2, using: &generator)
        let probs = forward(path, qkv: qkv).probs
        let T = Self.T
        for row in 0..<(Self.B * Self.NH * T) {
            let t = row % T
            var sum: Float = 0
            for j in 0..<T {
                let p = probs[row * T + j]
                if j > t {
                    #expect(p == 0, "row \(row) (t = \(t)) column \(j): \(p)")
                } else {
                    #expect(p > 0 && p <= 1, "row \(row) column \(j): \(p)")
                    sum += p
                }
            }
            #expect(abs(sum - 1) < Self.rowSumTolerance, "row \(row) sums to \(sum)")
        }
    }

    @Test(arguments: [KernelPath.fast, .reference])
    func testAttention_futureTokensDoNotChangeEarlierOutputs(path: KernelPath) {
        let (B, T, C) = (Self.B, Self.T, Self.C)
        var generator = RandomGenerator(seed: 42)
        let qkv = FloatBuffer.normal(B * T * 3 * C, using: &generator)
        let original = forward(path, qkv: qkv).out
        for changed in 1..<T {
            // Replace q, k and v of position `changed` in every sequence.
            let perturbed = FloatBuffer(qkv.array)
            for b in 0..<B {
                for i in 0..<(3 * C) { perturbed[(b * T + changed) * 3 * C + i] = 5 * generator.nextNormal() }
            }
            let out = forward(path, qkv: perturbed).out
            var changedLater = false
            for b in 0..<B {
                for t in 0..<T {
                    for i in 0..<C {
                        let index = (b * T + t) * C + i
                        if t < changed {
                            #expect(out[index] == original[index], "b \(b) t \(t) changed with position \(changed)")
                        } else if out[index] != original[index] {
                            changedLater = true
                        }
                    }
                }
            }
            // The perturbation is real: positions ≥ changed do see it.
            #expect(changedLater)
        }
    }
}
