// ck_sgemv (gemv_f32.c), the decode path of fp32 products with input-major weights: AVX2 panels
// against the portable loop on odd shapes, and the threaded entry against one thread.

import CKernels
import Testing
@testable import WhittleEngine

@Suite struct GemvTests {
    /// Same products, panel sums in the same k order: only FMA contraction differs.
    static let tolerance: Float = 1e-5

    func operands(rows: Int, outputs: Int, k: Int, seed: UInt64) -> (x: [Float], w: [Float]) {
        var generator = RandomGenerator(seed: seed)
        return ((0..<(rows * k)).map { _ in generator.nextNormal() }, (0..<(k * outputs)).map { _ in generator.nextNormal() })
    }

    @Test func testGemv_fastPathMatchesItsScalarTwin() {
        for (rows, outputs, k) in [(1, 37, 5), (2, 70, 33), (3, 96, 17), (1, 1, 1), (2, 31, 64)] {
            let (x, w) = operands(rows: rows, outputs: outputs, k: k, seed: UInt64(rows * 1000 + outputs))
            var fast = [Float](repeating: 0.25, count: rows * outputs), twin = fast
            ck_sgemv(rows, 0, outputs, k, x, w, outputs, &fast, outputs)
            ck_sgemv_reference(rows, 0, outputs, k, x, w, outputs, &twin, outputs)
            #expect(maxRelativeError(fast, twin, floor: 1) < Self.tolerance, "\(rows)×\(outputs)×\(k)")
        }
    }

    @Test func testGemv_threadedMatchesOneThread() {
        let (rows, outputs, k) = (2, 133, 40)
        let (x, w) = operands(rows: rows, outputs: outputs, k: k, seed: 3)
        var single = [Float](repeating: 1, count: rows * outputs)
        ck_sgemv(rows, 0, outputs, k, x, w, outputs, &single, outputs)
        for threads in [1, 2, 3] {
            var y = [Float](repeating: 1, count: rows * outputs)
            ck_sgemv_threaded(rows, outputs, k, x, w, &y, Int32(threads))
            #expect(y == single, "\(threads) threads")
        }
    }
}
