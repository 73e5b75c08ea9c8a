// The SIMD reductions against plain loops, at lengths around the 16-lane boundary.

import Testing
import WhittleKernels

@Suite struct VectorMathTests {
    static let lengths = [1, 2, 15, 16, 17, 31, 33, 64, 100]

    @Test(arguments: lengths)
    func testVectorMath_reductionsMatchPlainLoops(n: Int) {
        var generator = RandomGenerator(seed: UInt64(n))
        let a = FloatBuffer((0..<n).map { _ in generator.nextNormal() * 10 })
        let b = FloatBuffer((0..<n).map { _ in generator.nextNormal() })
        var sum = 0.0, dot = 0.0, squares = 0.0
        for i in 0..<n {
            sum += Double(a[i])
            dot += Double(a[i]) * Double(b[i])
            squares += Double(a[i] - 0.5) * Double(a[i] - 0.5)
        }
        #expect(abs(Double(VectorMath.sum(a.pointer, n)) - sum) < 1e-4 * max(1, abs(sum)) + 1e-3)
        #expect(abs(Double(VectorMath.dot(a.pointer, b.pointer, n)) - dot) < 1e-4 * max(1, abs(dot)) + 1e-3)
        #expect(abs(Double(VectorMath.sumOfSquares(a.pointer, n, center: 0.5)) - squares) < 1e-4 * squares + 1e-3)
        #expect(VectorMath.maximum(a.pointer, n) == a.array.max()!)
    }

    @Test func testVectorMath_maximumOrdersNegativesAndSignedZeros() {
        let values: [[Float]] = [[-3, -1, -2], [-0.0, -1e-30], [0.0, -0.0], [-Float.greatestFiniteMagnitude, -1e38],
                                 [-Float.infinity, -5], [1e-45, -1e-45], [7]]
        for row in values {
            let buffer = FloatBuffer(row)
            #expect(VectorMath.maximum(buffer.pointer, row.count) == row.max()!, "\(row)")
        }
    }
}
