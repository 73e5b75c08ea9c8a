// SGD, with heavy-ball or Nesterov momentum, as torch.optim.SGD with dampening 0: weight decay is
// coupled (g' = g + wd·p), the buffer is b ← μ·b + g' (b = g' on the first step, the same as a
// zero buffer), the step is lr·b, or lr·(g' + μ·b) with Nesterov. No square roots, so plain Swift.

public enum SGD {
    /// Plain SGD on `count` values: p ← p − lr·(g + l2·p).
    public static func update(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                              count: Int, learningRate lr: Float, l2: Float) {
        for i in 0..<count { p[i] -= lr * (g[i] + l2 * p[i]) }
    }

    /// SGD with momentum buffer `buffer` (μ = `momentum`), optionally Nesterov.
    public static func update(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                              buffer b: UnsafeMutablePointer<Float>, count: Int, learningRate lr: Float,
                              l2: Float, momentum mu: Float, nesterov: Bool) {
        if nesterov {
            for i in 0..<count {
                let gi = g[i] + l2 * p[i]
                let bi = mu * b[i] + gi
                b[i] = bi
                p[i] -= lr * (gi + mu * bi)
            }
        } else {
            for i in 0..<count {
                let bi = mu * b[i] + (g[i] + l2 * p[i])
                b[i] = bi
                p[i] -= lr * bi
            }
        }
    }
}
