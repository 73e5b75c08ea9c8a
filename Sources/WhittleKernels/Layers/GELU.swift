// GELU with the tanh approximation (`gelu_new` in Hugging Face GPT-2; Hendrycks & Gimpel 2016).

/// y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
public enum GELU {
    static let scale: Float = 0.797_884_560_802_865_4  // √(2/π)
    static let cubic: Float = 0.044_715

    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let x = inp[i]
            let u = scale * (x + cubic * x * x * x)
            out[i] = 0.5 * x * (1 + FastMath.tanh(u))
        }
    }

    /// dinp = gelu'(inp) * dout, overwriting dinp (which may alias dout).
    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                                dout: UnsafePointer<Float>, count: Int) {
        if UnsafePointer(dinp) != dout { dinp.update(from: dout, count: count) }
        backwardInPlace(dinp, inp: inp, count: count)
    }

    /// gradient[i] ← gelu'(inp[i]) · gradient[i]. Two distinct pointers, so the loop vectorises
    /// (an aliased three-pointer loop fails the compiler's overlap check and runs scalar, ~10× slower).
    static func backwardInPlace(_ gradient: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let x = inp[i]
            let u = scale * (x + cubic * x * x * x)
            let th = FastMath.tanh(u)
            let sech2 = 1 - th * th
            let local = 0.5 * (1 + th) + 0.5 * x * sech2 * scale * (1 + 3 * cubic * x * x)
            gradient[i] *= local
        }
    }

    /// Training forward: out = gelu(x), and x is overwritten by gelu'(x), the only thing backward
    /// needs from it. Backward is then one multiply (`backwardFromDerivative`), with no tanh to recompute.
    public static func forwardSavingDerivative(out: UnsafeMutablePointer<Float>, inputThenDerivative x: UnsafeMutablePointer<Float>,
                                               count: Int) {
        for i in 0..<count {
            let v = x[i]
            let u = scale * (v + cubic * v * v * v)
            let th = FastMath.tanh(u)
            out[i] = 0.5 * v * (1 + th)
            x[i] = 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * scale * (1 + 3 * cubic * v * v)
        }
    }

    /// gradient[i] ← derivative[i] · gradient[i], with the derivative saved by `forwardSavingDerivative`.
    public static func backwardFromDerivative(_ gradient: UnsafeMutablePointer<Float>, derivative: UnsafePointer<Float>,
                                              count: Int) {
        for i in 0..<count { gradient[i] *= derivative[i] }
    }
}

// MARK: - 16-bit storage

extension GELU {
    /// Values per stack-allocated chunk of the 16-bit variants.
    static let halfChunk = 1024

    /// gelu(x) and gelu'(x) rounded to `format`; `inputScratch` holds x in fp32 and is overwritten.
    public static func forwardRounded(gelu: UnsafeMutablePointer<UInt16>, derivative: UnsafeMutablePointer<UInt16>,
                                      inputScratch x: UnsafeMutablePointer<Float>, count: Int, format: Precision) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: halfChunk) { buffer in
            let out = buffer.baseAddress!
            for start in stride(from: 0, to: count, by: halfChunk) {
                let n = min(halfChunk, count - start)
                forwardSavingDerivative(out: out, inputThenDerivative: x + start, count: n)
                HalfConversion.round(out, to: gelu + start, count: n, format: format)
                HalfConversion.round(x + start, to: derivative + start, count: n, format: format)
            }
        }
    }

    /// gradient ← gelu'·gradient in fp32 (kept for the bias sum), also rounded into `rounded`.
    /// Returns the count of nonzero values rounding flushed to zero.
    public static func backwardRounded(_ gradient: UnsafeMutablePointer<Float>, derivative: UnsafePointer<UInt16>,
                                       into rounded: UnsafeMutablePointer<UInt16>, count: Int, format: Precision) -> Int {
        var flushed = 0
        withUnsafeTemporaryAllocation(of: Float.self, capacity: halfChunk) { buffer in
            let local = buffer.baseAddress!
            for start in stride(from: 0, to: count, by: halfChunk) {
                let n = min(halfChunk, count - start)
                HalfConversion.widen(derivative + start, to: local, count: n, format: format)
                backwardFromDerivative(gradient + start, derivative: local, count: n)
                flushed += HalfConversion.round(gradient + start, to: rounded + start, count: n, format: format)
            }
        }
        return flushed
    }
}
