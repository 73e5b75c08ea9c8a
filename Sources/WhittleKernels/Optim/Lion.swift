// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): the update is the sign
// of an interpolation between the momentum and the gradient, so every coordinate moves by exactly
// lr (plus decay). One state buffer, half of Adam's. sign(0) = 0, as torch.sign.

public enum Lion {
    /// c = β1·m + (1−β1)·g;  p ← p·decay − lr·sign(c);  m ← β2·m + (1−β2)·g, with decay = 1 − lr·wd.
    public static func update(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                              m: UnsafeMutablePointer<Float>, count: Int, learningRate lr: Float,
                              beta1: Float, beta2: Float, decay: Float) {
        let a1 = 1 - beta1, a2 = 1 - beta2
        for i in 0..<count {
            let gi = g[i], mi = m[i]
            let c = beta1 * mi + a1 * gi
            let direction: Float = c > 0 ? 1 : (c < 0 ? -1 : 0)
            p[i] = p[i] * decay - lr * direction
            m[i] = beta2 * mi + a2 * gi
        }
    }
}
