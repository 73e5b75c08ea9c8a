// Parallel loops. `forEach` is for coarse-grained work (≥ ~1 ms per chunk: data-parallel workers,
// optimizer and gradient-reduction passes); `onPool` runs fine-grained parts (tens of microseconds: a
// prefill's LayerNorms and GELUs) on CKernels' spinning pool. Chunk boundaries depend only on the
// sizes, so results repeat exactly.

import CKernels
import Dispatch

public enum Parallel {
    /// Runs body(i) for i in 0..<count, concurrently when count > 1.
    @inline(__always)
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count == 1 { return body(0) }
        // The callers hand each iteration disjoint memory; the box only carries the closure across.
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: count) { box.value($0) }
        }
    }

    /// Part `part` of 0..<total split into `parts` contiguous ranges (the last ones one shorter).
    @inline(__always)
    public static func range(_ part: Int, of parts: Int, total: Int) -> Range<Int> {
        let base = total / parts, extra = total % parts
        let start = part * base + min(part, extra)
        return start..<(start + base + (part < extra ? 1 : 0))
    }
}

/// Carries a value into concurrent code whose safety the caller guarantees (disjoint writes).
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension Parallel {
    /// Runs body(part) for part in 0..<parts on CKernels' persistent worker pool (`ck_parallel`: part 0
    /// on the caller, spinning workers), for loops of tens of microseconds where a dispatch would cost
    /// as much as the work (the prefill's LayerNorms and GELUs). Each part must write disjoint memory.
    @inline(__always)
    public static func onPool(_ parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { return body(0) }
        withoutActuallyEscaping(body) { body in
            var task = body
            withUnsafeMutablePointer(to: &task) { context in
                ck_parallel(Int32(parts), { context, part, _ in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(part))
                }, context)
            }
        }
    }
}
