// Which CKernels product each weight format runs on (quant_gemm.c's type ids, GGUF's where GGUF
// has the type): the "dot kernel" column of the format table, in its own file because it is the
// only part of the table that needs the C target.

import CKernels

extension WeightFormat {
    /// The `ck_qgemm` weight type, or nil for f32 (which runs on `BLAS.gemm`).
    public var kernelType: Int32? {
        switch self {
        case .f32: return nil
        case .f16: return Int32(CK_F16)
        case .bf16: return Int32(CK_BF16)
        case .q8_0: return Int32(CK_Q8_0)
        case .q5_1: return Int32(CK_Q5_1)
        case .q5_0: return Int32(CK_Q5_0)
        case .q4_1: return Int32(CK_Q4_1)
        case .q4_0: return Int32(CK_Q4_0)
        case .int8: return Int32(CK_INT8)
        }
    }
}

/// Bytes a product borrows for its quantized activation rows: grown on first use to the largest
/// request, then reused (one per arena, so decode and evaluation allocate nothing per token).
public final class ByteScratch: @unchecked Sendable {
    private var storage: UnsafeMutableRawPointer?
    public private(set) var byteCount = 0

    public init() {}

    deinit { storage?.deallocate() }

    /// At least `count` bytes, 64-byte aligned; valid until the next call.
    public func bytes(_ count: Int) -> UnsafeMutableRawPointer {
        if count > byteCount || storage == nil {
            storage?.deallocate()
            storage = .allocate(byteCount: max(count, 64), alignment: 64)
            byteCount = max(count, 64)
        }
        return storage!
    }
}
