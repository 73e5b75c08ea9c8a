// Owned, aligned storage of 16-bit values (bf16 or fp16 bit patterns), the 16-bit twin of FloatBuffer.

/// A fixed-size, 64-byte aligned, zero-initialised array of 16-bit patterns that owns its memory.
public final class HalfBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<UInt16>

    public init(count: Int) {
        precondition(count >= 0, "HalfBuffer count must not be negative")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 2, alignment: 64)
        pointer = raw.bindMemory(to: UInt16.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// Bytes held.
    public var byteCount: Int { count * 2 }

    public subscript(index: Int) -> UInt16 {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }
}
