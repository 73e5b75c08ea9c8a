// Softmax + cross-entropy over the vocabulary, fused: the loss head of the language model.

import Foundation

/// losses[n] = −log softmax(logits[n])[target[n]]; probs are kept for backward.
public enum CrossEntropy {
    /// - Parameters: losses [N]; probs, logits [N, V]; targets [N].
    public static func forward(losses: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                               logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, N: Int, V: Int) {
        for n in 0..<N {
            let z = logits + n * V
            let p = probs + n * V
            let maximum = VectorMath.maximum(z, V)
            for i in 0..<V { p[i] = FastMath.exp(z[i] - maximum) }
            let sum = VectorMath.sum(p, V)
            let inverse = 1 / sum
            for i in 0..<V { p[i] *= inverse }
            let target = Int(targets[n])
            // log-sum-exp form keeps the loss accurate when the target's probability underflows.
            losses[n] = Float(Foundation.log(Double(sum))) + maximum - z[target]
        }
    }

    /// dlogits = (probs − onehot(target)) · scale, overwriting dlogits (scale is usually 1/N).
    public static func backward(dlogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>,
                                targets: UnsafePointer<Int32>, N: Int, V: Int, scale: Float) {
        for n in 0..<N {
            let d = dlogits + n * V
            let p = probs + n * V
            for i in 0..<V { d[i] = p[i] * scale }
            d[Int(targets[n])] -= scale
        }
    }
}
