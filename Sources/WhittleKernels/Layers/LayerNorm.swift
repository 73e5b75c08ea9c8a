// Layer normalisation over the last dimension (Ba et al. 2016), as in GPT-2's pre-LN blocks.

/// y = (x - mean) / sqrt(var + eps) * weight + bias, per row of C values.
public enum LayerNorm {
    /// - Parameters: out, inp [N, C]; mean, rstd [N] (saved for backward); weight [C]; bias [C] or nil.
    public static func forward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               rstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               N: Int, C: Int, epsilon: Float) {
        for row in 0..<N {
            let x = inp + row * C
            let m = VectorMath.sum(x, C) / Float(C)
            let variance = VectorMath.sumOfSquares(x, C, center: m) / Float(C)
            let s = 1 / (variance + epsilon).squareRoot()
            let y = out + row * C
            if let bias {
                for i in 0..<C { y[i] = (x[i] - m) * s * weight[i] + bias[i] }
            } else {
                for i in 0..<C { y[i] = (x[i] - m) * s * weight[i] }
            }
            mean[row] = m
            rstd[row] = s
        }
    }

    /// Accumulates into dinp, dweight and dbias (if present).
    public static func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                                dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int) {
        for row in 0..<N {
            let dy = dout + row * C
            let x = inp + row * C
            let dx = dinp + row * C
            let m = mean[row]
            let s = rstd[row]
            // mean(dnorm) and mean(dnorm·norm), with dnorm = w·dy and norm = (x − m)·s.
            let weightedSum = VectorMath.dot(weight, dy, C)
            var weightedX = SIMD16<Float>()
            var i = 0
            while i + 16 <= C {
                weightedX.addProduct(VectorMath.load(weight + i) * VectorMath.load(dy + i), VectorMath.load(x + i))
                i += 16
            }
            var dnormX = VectorMath.horizontalSum(weightedX)
            while i < C { dnormX += weight[i] * dy[i] * x[i]; i += 1 }
            let meanDNorm = weightedSum / Float(C)
            let meanDNormNorm = (dnormX - m * weightedSum) * s / Float(C)
            for i in 0..<C {
                let norm = (x[i] - m) * s
                let dnorm = weight[i] * dy[i]
                dweight[i] += norm * dy[i]
                dx[i] += (dnorm - meanDNorm - norm * meanDNormNorm) * s
            }
            if let dbias {
                for i in 0..<C { dbias[i] += dy[i] }
            }
        }
    }
}
