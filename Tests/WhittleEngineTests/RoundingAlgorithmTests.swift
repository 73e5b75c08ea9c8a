// The rounding kernels on small seeded matrices: a block grid from the reference rule gives GGUF's
// reference bytes; the inverse Cholesky factor is right; GPTQ equals round-to-nearest byte for byte
// when the Hessian is the identity (column order and act-order) and lowers the output reconstruction
// error ‖X(W − Ŵ)ᵀ‖² below RTN's when inputs are strongly correlated; importance-weighted rounding
// never has a larger weighted error than RTN in any block and a lower one on average; AWQ's clipping
// never has a larger output error than RTN in any row and a lower one over the matrix; and every block
// these algorithms write dequantizes to values on its own grid.

import Testing
@testable import WhittleEngine

@Suite struct RoundingAlgorithmTests {
    static let blockTypes: [WeightFormat] = [.q8_0, .q5_1, .q5_0, .q4_1, .q4_0]

    static func normals(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in generator.nextNormal() * scale }
    }

    /// Reference (RTN) bytes of `rows` rows of K values.
    static func rtn(_ w: [Float], rows: Int, K: Int, _ format: WeightFormat) -> [UInt8] {
        let rowBytes = format.rowBytes(K)!
        var out = [UInt8](repeating: 0, count: rows * rowBytes)
        out.withUnsafeMutableBytes { o in
            w.withUnsafeBufferPointer { x in
                for r in 0..<rows { format.quantizeRow(x.baseAddress! + r * K, into: o.baseAddress! + r * rowBytes, count: K) }
            }
        }
        return out
    }

    static func dequantize(_ bytes: [UInt8], rows: Int, K: Int, _ format: WeightFormat) -> [Float] {
        let rowBytes = format.rowBytes(K)!
        var out = [Float](repeating: 0, count: rows * K)
        bytes.withUnsafeBytes { b in
            out.withUnsafeMutableBufferPointer { y in
                for r in 0..<rows { format.dequantizeRow(b.baseAddress! + r * rowBytes, into: y.baseAddress! + r * K, count: K) }
            }
        }
        return out
    }

    static func gptq(_ w: [Float], rows: Int, K: Int, hessian: [Double], _ format: WeightFormat,
                     actOrder: Bool = false) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rows * format.rowBytes(K)!)
        try out.withUnsafeMutableBytes { o in
            _ = try GPTQ.quantize(weights: w, rows: rows, columns: K, hessian: hessian, format: format,
                                  options: GPTQ.Options(actOrder: actOrder), into: o.baseAddress!)
        }
        return out
    }

    /// ‖X(W − Ŵ)ᵀ‖² from H = XᵀX.
    static func outputError(_ w: [Float], _ approximation: [Float], rows: Int, K: Int, hessian: [Double]) -> Double {
        let delta = zip(w, approximation).map { $0 - $1 }
        return SymmetricMatrix.quadraticForm(delta, rows: rows, n: K, h: hessian.map(Float.init))
    }

    /// H = XᵀX for N inputs driven by 6 latent factors plus 5% noise, with a few channels 10× larger.
    static func correlatedHessian(K: Int, N: Int = 1024, seed: UInt64) -> [Double] {
        let latent = 6
        let mixing = normals(latent * K, seed: seed)
        var generator = RandomGenerator(seed: seed &+ 1)
        var h = [Double](repeating: 0, count: K * K)
        var x = [Double](repeating: 0, count: K)
        for _ in 0..<N {
            let z = (0..<latent).map { _ in generator.nextNormal() }
            for k in 0..<K {
                var v: Float = 0.05 * generator.nextNormal()
                for f in 0..<latent { v += z[f] * mixing[f * K + k] }
                x[k] = Double(v) * (k % 17 == 3 ? 10 : 1)
            }
            for i in 0..<K { for j in 0..<K { h[i * K + j] += x[i] * x[j] } }
        }
        return h
    }

    /// Every block of `bytes` dequantizes to grid values: (v − m)/d is an integer code in the type's range.
    static func expectOnGrid(_ bytes: [UInt8], rows: Int, K: Int, _ format: WeightFormat) {
        let values = dequantize(bytes, rows: rows, K: K, format)
        let blockBytes = format.traits.bytesPerBlock
        let (low, high): (Float, Float) = switch format {
        case .q4_0: (-8, 7)
        case .q5_0: (-16, 15)
        case .q4_1: (0, 15)
        case .q5_1: (0, 31)
        default: (-127, 127)
        }
        for block in 0..<(bytes.count / blockBytes) {
            let d = Float(Float16(bitPattern: UInt16(bytes[block * blockBytes]) | UInt16(bytes[block * blockBytes + 1]) << 8))
            let affine = format == .q4_1 || format == .q5_1
            let m = affine ? Float(Float16(bitPattern: UInt16(bytes[block * blockBytes + 2]) | UInt16(bytes[block * blockBytes + 3]) << 8)) : 0
            for j in 0..<32 {
                let v = values[block * 32 + j]
                guard d != 0 else { #expect(v == m); continue }
                let code = ((v - m) / d).rounded()
                #expect(code >= low && code <= high, "\(format) block \(block): code \(code)")
                #expect(abs(v - (code * d + m)) <= 1e-5 * max(abs(v), abs(d)), "\(format) block \(block): \(v) is off the grid")
            }
        }
    }

    @Test func testReferenceGrid_givesTheReferenceBytes() {
        let x = Self.normals(32 * 24, seed: 3)
        for format in Self.blockTypes {
            var viaGrid = [UInt8](repeating: 0, count: format.rowBytes(x.count)!)
            viaGrid.withUnsafeMutableBytes { out in
                x.withUnsafeBufferPointer { values in
                    for b in 0..<24 {
                        BlockGrid.reference(format, values.baseAddress! + b * 32)
                            .quantize(values.baseAddress! + b * 32, into: out.baseAddress! + b * format.traits.bytesPerBlock)
                    }
                }
            }
            #expect(viaGrid == Self.rtn(x, rows: 1, K: x.count, format), "\(format)")
        }
    }

    @Test func testInverseCholeskyUpper_factorsTheInverse() {
        let K = 24
        let h = Self.correlatedHessian(K: K, N: 200, seed: 5).enumerated().map { $0.offset % (K + 1) == 0 ? $0.element + 1 : $0.element }
        var u = [Double](repeating: 0, count: K * K)
        #expect(SymmetricMatrix.inverseCholeskyUpper(h, n: K, into: &u))
        for i in 0..<K { for j in 0..<i { #expect(u[i * K + j] == 0) } }
        // (UᵀU)·H = I.
        for i in 0..<K {
            for j in 0..<K {
                var sum: Double = 0
                for k in 0..<K {
                    var inverse: Double = 0
                    for m in 0..<K { inverse += u[m * K + i] * u[m * K + k] }
                    sum += inverse * h[k * K + j]
                }
                #expect(abs(sum - (i == j ? 1 : 0)) < 1e-6, "(\(i), \(j)): \(sum)")
            }
        }
        var notDefinite = [Double](repeating: 0, count: 4)
        notDefinite[0] = 1; notDefinite[3] = -1
        #expect(!SymmetricMatrix.inverseCholeskyUpper(notDefinite, n: 2, into: &u))
    }

    @Test func testGPTQ_equalsRoundToNearestWhenTheHessianIsTheIdentity() throws {
        let rows = 12, K = 256
        let w = Self.normals(rows * K, seed: 7, scale: 0.05)
        var identity = [Double](repeating: 0, count: K * K)
        for k in 0..<K { identity[k * K + k] = 1 }
        for format in Self.blockTypes {
            let reference = Self.rtn(w, rows: rows, K: K, format)
            #expect(try Self.gptq(w, rows: rows, K: K, hessian: identity, format) == reference, "\(format)")
            #expect(try Self.gptq(w, rows: rows, K: K, hessian: identity, format, actOrder: true) == reference, "\(format) act-order")
        }
    }

    @Test(arguments: [WeightFormat.q4_0, .q8_0, .q4_1, .q5_0])
    func testGPTQ_beatsRoundToNearestOnCorrelatedInputs(format: WeightFormat) throws {
        let rows = 32, K = 128
        let h = Self.correlatedHessian(K: K, seed: 11)
        let w = Self.normals(rows * K, seed: 13, scale: 0.05)
        let rtn = Self.outputError(w, Self.dequantize(Self.rtn(w, rows: rows, K: K, format), rows: rows, K: K, format),
                                   rows: rows, K: K, hessian: h)
        for actOrder in [false, true] {
            let bytes = try Self.gptq(w, rows: rows, K: K, hessian: h, format, actOrder: actOrder)
            let gptq = Self.outputError(w, Self.dequantize(bytes, rows: rows, K: K, format), rows: rows, K: K, hessian: h)
            #expect(gptq < 0.7 * rtn, "\(format) act-order \(actOrder): GPTQ \(gptq) vs RTN \(rtn)")
            Self.expectOnGrid(bytes, rows: rows, K: K, format)
        }
    }

    @Test func testGPTQ_refusesBadOptionsAndZeroesDeadInputs() throws {
        let rows = 4, K = 64
        let w = Self.normals(rows * K, seed: 17)
        var h = Self.correlatedHessian(K: K, N: 300, seed: 19)
        for j in 0..<K { h[5 * K + j] = 0; h[j * K + 5] = 0 }   // input 5 never fires
        let bytes = try Self.gptq(w, rows: rows, K: K, hessian: h, .q8_0)
        let values = Self.dequantize(bytes, rows: rows, K: K, .q8_0)
        for r in 0..<rows { #expect(values[r * K + 5] == 0) }
        var out = [UInt8](repeating: 0, count: rows * WeightFormat.q8_0.rowBytes(K)!)
        #expect(throws: GPTQ.Failure.self) {
            try out.withUnsafeMutableBytes {
                _ = try GPTQ.quantize(weights: w, rows: rows, columns: K, hessian: h, format: .q8_0,
                                      options: GPTQ.Options(batchSize: 48), into: $0.baseAddress!)
            }
        }
    }

    @Test(arguments: RoundingAlgorithmTests.blockTypes)
    func testImportanceRounding_neverWorseThanRoundToNearestInAnyBlock(format: WeightFormat) {
        let K = 32 * 64
        let x = Self.normals(K, seed: 23, scale: 0.1)
        var generator = RandomGenerator(seed: 29)
        // Importances like mean squared activations: a few inputs dominate.
        let importance: [Float] = (0..<K).map { _ in let z = generator.nextNormal(); return z * z * (generator.nextUniform() < 0.1 ? 50 : 1) }
        var bytes = [UInt8](repeating: 0, count: format.rowBytes(K)!)
        bytes.withUnsafeMutableBytes { ImportanceRounding.quantizeRow(format, x, weights: importance, into: $0.baseAddress!, count: K) }
        let ours = Self.dequantize(bytes, rows: 1, K: K, format)
        let reference = Self.dequantize(Self.rtn(x, rows: 1, K: K, format), rows: 1, K: K, format)
        var totalOurs: Double = 0, totalReference: Double = 0
        for block in 0..<(K / 32) {
            var a: Double = 0, b: Double = 0
            for j in (block * 32)..<(block * 32 + 32) {
                a += Double(importance[j]) * Double(x[j] - ours[j]) * Double(x[j] - ours[j])
                b += Double(importance[j]) * Double(x[j] - reference[j]) * Double(x[j] - reference[j])
            }
            #expect(a <= b, "\(format) block \(block): \(a) > RTN's \(b)")
            totalOurs += a; totalReference += b
        }
        #expect(totalOurs < 0.97 * totalReference, "\(format): \(totalOurs) vs RTN \(totalReference)")
        Self.expectOnGrid(bytes, rows: 1, K: K, format)
    }

    /// AWQ's clipping: with the layer's Hessian, no row's output error eᵀHe is above round-to-nearest's,
    /// the whole matrix's ‖X(W − Ŵ)ᵀ‖² is lower, blocks stay on their grids; with H = 0 nothing is clipped.
    @Test(arguments: RoundingAlgorithmTests.blockTypes)
    func testBlockClipping_neverWorseThanRoundToNearestInAnyRow(format: WeightFormat) {
        let K = 128, rows = 16
        let w = Self.normals(rows * K, seed: 31, scale: 0.1)
        let hessian = Self.correlatedHessian(K: K, seed: 37), h = hessian.map(Float.init)
        let rowBytes = format.rowBytes(K)!
        func clipped(_ h: [Float]) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: rows * rowBytes)
            bytes.withUnsafeMutableBytes { out in
                for r in 0..<rows {
                    w.withUnsafeBufferPointer { BlockClipping.quantizeRow(format, $0.baseAddress! + r * K, hessian: h, into: out.baseAddress! + r * rowBytes, count: K) }
                }
            }
            return bytes
        }
        let bytes = clipped(h), rtnBytes = Self.rtn(w, rows: rows, K: K, format)
        #expect(clipped([Float](repeating: 0, count: K * K)) == rtnBytes)
        let ours = Self.dequantize(bytes, rows: rows, K: K, format), reference = Self.dequantize(rtnBytes, rows: rows, K: K, format)
        for r in 0..<rows {
            let range = (r * K)..<(r * K + K)
            let a = Self.outputError(Array(w[range]), Array(ours[range]), rows: 1, K: K, hessian: hessian)
            let b = Self.outputError(Array(w[range]), Array(reference[range]), rows: 1, K: K, hessian: hessian)
            #expect(a <= b * (1 + 1e-4), "\(format) row \(r): \(a) > RTN's \(b)")
        }
        let error = Self.outputError(w, ours, rows: rows, K: K, hessian: hessian)
        let rtnError = Self.outputError(w, reference, rows: rows, K: K, hessian: hessian)
        #expect(error < rtnError, "\(format): \(error) vs RTN \(rtnError)")
        Self.expectOnGrid(bytes, rows: rows, K: K, format)
    }
}
