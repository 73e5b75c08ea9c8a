// Global-norm gradient clipping (as torch.nn.utils.clip_grad_norm_ with norm_type 2).

public enum GradientClipping {
    /// The L2 norm of all `count` gradients taken as one vector, accumulated in Double.
    public static func globalNorm(_ gradients: UnsafePointer<Float>, count: Int) -> Double {
        sumOfSquares(gradients, count: count).squareRoot()
    }

    /// Σ g², in Float chunks of 4096 (16 SIMD lanes) accumulated in Double.
    public static func sumOfSquares(_ gradients: UnsafePointer<Float>, count: Int) -> Double {
        var sum: Double = 0
        var chunkStart = 0
        // Sum in Float chunks (16 SIMD lanes), accumulate chunks in Double for accuracy.
        while chunkStart < count {
            let chunkEnd = min(chunkStart + 4096, count)
            sum += Double(VectorMath.sumOfSquares(gradients + chunkStart, chunkEnd - chunkStart))
            chunkStart = chunkEnd
        }
        return sum
    }

    /// Scales gradients so their global norm is at most `maxNorm` (PyTorch: coef = max / (norm + 1e-6),
    /// applied only when below 1). Returns the norm before clipping.
    @discardableResult
    public static func clip(_ gradients: UnsafeMutablePointer<Float>, count: Int, maxNorm: Float) -> Double {
        clip(gradients, count: count, norm: globalNorm(gradients, count: count), maxNorm: maxNorm)
    }

    /// As `clip(_:count:maxNorm:)` with the norm already computed (e.g. during the gradient reduction).
    /// `unscale` first divides out a loss scale (fp16): `norm` is then the norm after unscaling, and
    /// unscaling and clipping share one pass over the gradients.
    @discardableResult
    public static func clip(_ gradients: UnsafeMutablePointer<Float>, count: Int, norm: Double, maxNorm: Float,
                            unscale: Float = 1) -> Double {
        guard norm.isFinite else { return norm }
        var factor = Double(unscale)
        let coefficient = Double(maxNorm) / (norm + 1e-6)
        if maxNorm > 0 && coefficient < 1 { factor *= coefficient }
        if factor != 1 {
            let c = Float(factor)
            for i in 0..<count { gradients[i] *= c }
        }
        return norm
    }
}
