// Each kept activation as the one forward/backward pass sees it: fp32 values in an fp32 arena,
// 16-bit values in a bf16/fp16 arena. The passes are written once over these views; the layer
// helpers in `GPT+Layers.swift` pick the kernel from the view's kind.

/// One activation tensor: fp32, or 16-bit bit patterns in a `Precision`.
public enum ActivationBuffer {
    case f32(UnsafeMutablePointer<Float>)
    case half(UnsafeMutablePointer<UInt16>, Precision)
}

extension ActivationArena {
    @inline(__always)
    private func view(_ fp32: [FloatBuffer], _ half16: (HalfActivations) -> [HalfBuffer], _ l: Int) -> ActivationBuffer {
        if let half { return .half(half16(half)[l].pointer, precision) }
        return .f32(fp32[l].pointer)
    }

    /// LayerNorm 1's output, [B,T,C].
    func ln1(_ l: Int) -> ActivationBuffer { view(ln1, { $0.ln1 }, l) }
    /// c_attn's output, [B,T,3A].
    func qkv(_ l: Int) -> ActivationBuffer { view(qkv, { $0.qkv }, l) }
    /// Attention's output before c_proj, [B,T,A].
    func attentionOut(_ l: Int) -> ActivationBuffer { view(attentionOut, { $0.attentionOut }, l) }
    /// LayerNorm 2's output, [B,T,C].
    func ln2(_ l: Int) -> ActivationBuffer { view(ln2, { $0.ln2 }, l) }
    /// GELU's output, [B,T,H].
    func fcGelu(_ l: Int) -> ActivationBuffer { view(fcGelu, { $0.fcGelu }, l) }
    /// GELU's derivative at c_fc's output, [B,T,H] (in fp32, written over c_fc's output itself).
    func fcDerivative(_ l: Int) -> ActivationBuffer { view(fc, { $0.fcDerivative }, l) }

    /// Where c_fc writes its fp32 output: the kept buffer in fp32, the dFC scratch in 16 bits.
    func mlpUpOutput(_ l: Int) -> UnsafeMutablePointer<Float> { half == nil ? fc[l].pointer : dFC.pointer }

    /// The final LayerNorm's output, [B,T,C].
    var lnfOut: ActivationBuffer {
        if let half { return .half(half.lnf.pointer, precision) }
        return .f32(lnf.pointer)
    }
}
