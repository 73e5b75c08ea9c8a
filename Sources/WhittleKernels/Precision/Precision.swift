// The number formats a training run can store activations and matmul inputs in. Master weights,
// gradients and optimizer state stay fp32 in every mode (mixed precision, Micikevicius et al. 2018).

/// Storage format of activations and matmul operands.
public enum Precision: String, CaseIterable, Sendable, Codable {
    /// IEEE single precision everywhere (the reference).
    case fp32
    /// bfloat16: fp32's 8-bit exponent with a 7-bit mantissa; needs no loss scaling.
    case bf16
    /// IEEE half: 5-bit exponent, 10-bit mantissa; small gradients underflow without loss scaling.
    case fp16

    /// Bytes per stored value.
    public var byteWidth: Int { self == .fp32 ? 4 : 2 }

    /// Whether activations and matmul inputs are stored in 16 bits.
    public var isHalf: Bool { self != .fp32 }
}
