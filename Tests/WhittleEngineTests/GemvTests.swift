// ck_sgemv (gemv_f32.c), the decode path of fp32 products with input-major weights: AVX2 panels and the one-row streaming kernel
// against the portable loop on odd shapes, and the threaded entry against one thread.

import CKernels
import Testing
@testable import WhittleEngine

@Suite struct GemvTests {
    /// Same products, panel sums in the same k order: only FMA contraction differs.
    static let tolerance: Float = 1e-5
    /// Two half-length sums added at the end instead of one running sum: measured up to 3.3e-5 at k = 1536.
    static let halvesTolerance: Float = 1e-4

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

    /// One activation row streams W's rows (8 at a time, sums in an L1 buffer, 1024 columns a pass):
    /// odd widths, row counts that are not multiples of 8, several passes and a column range not at 0.
    @Test func testGemv_oneRowStreamingMatchesItsScalarTwin() {
        for (outputs, k, o0) in [(2100, 19, 0), (1030, 8, 3), (1536, 384, 512), (9, 17, 1), (40, 7, 0)] {
            let (x, w) = operands(rows: 1, outputs: outputs, k: k, seed: UInt64(outputs + k))
            var fast = [Float](repeating: 0.5, count: outputs), twin = fast
            ck_sgemv(1, o0, outputs, k, x, w, outputs, &fast, outputs)
            ck_sgemv_reference(1, o0, outputs, k, x, w, outputs, &twin, outputs)
            #expect(maxRelativeError(fast, twin, floor: 1) < Self.tolerance, "1×\(outputs)×\(k) from \(o0)")
            #expect(fast[..<o0] == twin[..<o0], "columns before the range are untouched")
        }
    }

    /// The streaming one-row kernel takes each sum's k terms in the same order, one FMA each, as the
    /// panels of the two-row path: the same bits on the vector columns.
    @Test func testGemv_oneRowGivesThePanelsBits() {
        let (outputs, k) = (1100, 45)
        let (x, w) = operands(rows: 2, outputs: outputs, k: k, seed: 11)
        var one = [Float](repeating: 0, count: outputs), two = [Float](repeating: 0, count: 2 * outputs)
        ck_sgemv(1, 0, outputs, k, x, w, outputs, &one, outputs)
        ck_sgemv(2, 0, outputs, k, x, w, outputs, &two, outputs)
        let vectorColumns = outputs / 32 * 32
        #expect(Array(one[..<vectorColumns]) == Array(two[..<vectorColumns]))
    }

    /// One activation row and at most 2048 outputs: the threaded entry sums two halves of W's rows
    /// (always two, whatever the thread count), so thread counts agree bit for bit and the result is
    /// the twin's up to the order of two additions.
    @Test func testGemv_oneRowHalvesOfTheRowsAgreeAcrossThreadCounts() {
        for (outputs, k) in [(384, 1536), (37, 65), (1152, 384)] {
            let (x, w) = operands(rows: 1, outputs: outputs, k: k, seed: UInt64(outputs * 7 + k))
            var twin = [Float](repeating: 1, count: outputs)
            ck_sgemv_reference(1, 0, outputs, k, x, w, outputs, &twin, outputs)
            var first: [Float]?
            for threads in [1, 2, 3] {
                var y = [Float](repeating: 1, count: outputs)
                ck_sgemv_threaded(1, outputs, k, x, w, &y, Int32(threads))
                #expect(maxRelativeError(y, twin, floor: 1) < Self.halvesTolerance, "1×\(outputs)×\(k), \(threads) threads")
                if let first { #expect(y == first, "1×\(outputs)×\(k), \(threads) threads") } else { first = y }
            }
        }
    }

    @Test func testGemv_threadedMatchesOneThread() {
        for (rows, outputs, k) in [(2, 133, 40), (1, 1153, 24), (1, 2100, 70)] {
            let (x, w) = operands(rows: rows, outputs: outputs, k: k, seed: 3)
            var single = [Float](repeating: 1, count: rows * outputs)
            ck_sgemv(rows, 0, outputs, k, x, w, outputs, &single, outputs)
            for threads in [1, 2, 3] {
                var y = [Float](repeating: 1, count: rows * outputs)
                ck_sgemv_threaded(rows, outputs, k, x, w, &y, Int32(threads))
                #expect(y == single, "\(rows) rows, \(threads) threads")
            }
        }
    }
}
