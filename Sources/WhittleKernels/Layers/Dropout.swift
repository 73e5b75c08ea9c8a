// Inverted dropout (Srivastava et al. 2014) with a counter-based mask: element i of a site is kept
// when hash(seed, i) clears the drop probability. The mask is never stored: backward regenerates it
// from the same (seed, index), and a global index makes the mask independent of how a batch is
// split over workers.

/// Where and how strongly dropout applies in one forward/backward pass.
public struct DropoutSettings: Equatable, Sendable {
    public var probability: Float
    /// Mixed from the run seed, the step and the micro-step by the trainer.
    public var seed: UInt64
    /// Index of the arena's first sequence within the whole batch.
    public var firstSequence: Int

    public init(probability: Float, seed: UInt64, firstSequence: Int) {
        self.probability = probability
        self.seed = seed
        self.firstSequence = firstSequence
    }

    /// Drops (and rescales) elements of one site's activation or gradient in place: `count` values of
    /// rows `width` wide, sequences `T` long, indexed from this arena's first sequence in the whole batch.
    @inline(__always)
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int, width: Int, T: Int, layer: Int, site: Int) {
        Dropout.apply(x, count: count, probability: probability, seed: seed(layer: layer, site: site),
                      firstIndex: firstSequence * T * width)
    }

    /// The seed of one dropout site (layer, position in the block).
    @inline(__always)
    public func seed(layer: Int, site: Int) -> UInt64 {
        Dropout.mix(seed ^ (UInt64(layer &+ 1) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(site &+ 1) &* 0xC2B2_AE3D_27D4_EB4F))
    }
}

public enum Dropout {
    /// SplitMix64's finaliser: a bijective 64-bit mix.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// x[i] ← x[i] / (1 − p) if element (firstIndex + i) is kept, else 0. Forward and backward both
    /// call this with the same seed and indices.
    public static func apply(_ x: UnsafeMutablePointer<Float>, count: Int, probability: Float,
                             seed: UInt64, firstIndex: Int) {
        guard probability > 0 else { return }
        let threshold = UInt32(min(Double(probability) * 4_294_967_296.0, 4_294_967_295.0))
        let scale = 1 / (1 - probability)
        let base = UInt64(firstIndex)
        for i in 0..<count {
            let bits = UInt32(truncatingIfNeeded: mix(seed &+ (base &+ UInt64(i)) &* 0x9E37_79B9_7F4A_7C15) >> 32)
            x[i] = bits >= threshold ? x[i] * scale : 0
        }
    }
}
