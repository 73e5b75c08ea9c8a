// Exponential moving average with bias correction, as TensorBoard and W&B smooth training curves:
// ema_t = β·ema_{t-1} + (1-β)·x_t, divided by 1-β^t so the curve is not pulled toward the first value.

/// Smoothing of noisy series for display.
public enum Smoothing {
    /// The debiased EMA of `values` with weight `beta` (0 returns the values unchanged; clamped to 0...0.999).
    /// Non-finite inputs are skipped: their output repeats the last smoothed value (or NaN before any).
    public static func debiasedEMA(_ values: [Double], beta: Double) -> [Double] {
        let beta = min(max(beta, 0), 0.999)
        guard beta > 0 else { return values }
        var ema = 0.0
        var correction = 1.0
        var seen = false
        return values.map { x in
            guard x.isFinite else { return seen ? ema / (1 - correction) : .nan }
            ema = beta * ema + (1 - beta) * x
            correction *= beta
            seen = true
            return ema / (1 - correction)
        }
    }

    /// The debiased EMA of the points' y values (x unchanged); same rules as the array version.
    public static func debiasedEMA(_ points: [ChartPoint], beta: Double) -> [ChartPoint] {
        let beta = min(max(beta, 0), 0.999)
        guard beta > 0 else { return points }
        var result = points
        var ema = 0.0
        var correction = 1.0
        var seen = false
        for i in result.indices {
            let x = result[i].y
            if x.isFinite {
                ema = beta * ema + (1 - beta) * x
                correction *= beta
                seen = true
            }
            result[i].y = seen ? ema / (1 - correction) : .nan
        }
        return result
    }
}
