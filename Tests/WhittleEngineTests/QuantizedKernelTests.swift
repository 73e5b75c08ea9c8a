// The quantized products of CKernels (quant_gemm.c): the AVX2 path against its scalar twin on odd
// shapes for every weight format, the activation quantizer's rounding, and both against a direct
// Double computation from the dequantized weights and activations.

import CKernels
import Testing
@testable import WhittleEngine

@Suite struct QuantizedKernelTests {
    /// The two paths sum block results in different orders (fp32); integer sums are exact.
    static let pathTolerance: Float = 2e-5
    /// Types with an offset (q4_0, q5_0) or a minimum multiply their stored, unsigned codes and add
    /// the offset term per row: two sums several times larger than the result, so the order of the
    /// fp32 additions shows more (measured up to 4.6e-5 on 34 blocks).
    static let offsetPathTolerance: Float = 2e-4

    static let formats: [WeightFormat] = WeightFormat.allCases.filter { $0 != .f32 }
    /// (activation rows, outputs, reduction length): 1 is decode, more rows take the 4-row tile and its remainder.
    /// 1088 = 34 blocks crosses the fast path's 32-block chunk of kept weight scales.
    /// From 2 rows on ck_qgemm runs the block types on packed panels of 8 outputs (tails of 1–7
    /// outputs and of 1–2 rows of a 3-row tile included below).
    static let shapes = [(1, 37, 64), (3, 5, 96), (5, 33, 160), (9, 7, 32), (4, 64, 256), (2, 3, 64), (6, 5, 1088), (1, 6, 1088)]
    static let panelShapes = [(8, 13, 96), (11, 19, 64), (17, 8, 1088), (14, 41, 160), (19, 16, 32)]
    /// The block types, whose panel path ck_qgemm_panel runs whatever the row count.
    static let blockFormats: [WeightFormat] = [.q8_0, .q5_0, .q5_1, .q4_0, .q4_1]

    /// Output-major weight rows of `format` and fp32 activation rows from a seed.
    func operands(_ format: WeightFormat, rows: Int, outputs: Int, k: Int, seed: UInt64)
        -> (weights: [UInt8], rowBytes: Int, activations: [Float]) {
        var generator = RandomGenerator(seed: seed)
        let rowBytes = format.rowBytes(k)!
        var weights = [UInt8](repeating: 0, count: outputs * rowBytes)
        var row = [Float](repeating: 0, count: k)
        weights.withUnsafeMutableBytes { bytes in
            for o in 0..<outputs {
                for i in 0..<k { row[i] = generator.nextNormal() * (o % 3 == 0 ? 0.02 : 1) }
                format.quantizeRow(row, into: bytes.baseAddress! + o * rowBytes, count: k)
            }
        }
        let activations = (0..<(rows * k)).map { _ in generator.nextNormal() }
        return (weights, rowBytes, activations)
    }

    func product(_ format: WeightFormat, _ operands: (weights: [UInt8], rowBytes: Int, activations: [Float]),
                 rows: Int, outputs: Int, k: Int, reference: Bool, panel: Bool = false) -> [Float] {
        let type = format.kernelType!
        let activationBytes = ck_qact_row_bytes(type, k)
        var quantized = [UInt8](repeating: 0, count: rows * activationBytes)
        var y = [Float](repeating: 0.5, count: rows * outputs)   // accumulate onto 0.5
        operands.activations.withUnsafeBufferPointer { x in
            quantized.withUnsafeMutableBytes { q in
                let a: UnsafeRawPointer
                if format.halfPrecision != nil {
                    a = UnsafeRawPointer(x.baseAddress!)
                } else {
                    ck_quantize_activations(type, x.baseAddress!, rows, k, q.baseAddress!)
                    a = UnsafeRawPointer(q.baseAddress!)
                }
                operands.weights.withUnsafeBytes { w in
                    y.withUnsafeMutableBufferPointer { out in
                        let call = reference ? ck_qgemm_reference : panel ? ck_qgemm_panel : ck_qgemm
                        call(type, rows, 0, outputs, k, w.baseAddress!, operands.rowBytes, a, activationBytes,
                             out.baseAddress!, outputs, 1)
                    }
                }
            }
        }
        return y
    }

    @Test(arguments: formats)
    func testQuantizedProduct_fastPathMatchesItsScalarTwin(format: WeightFormat) {
        let shapes = Self.shapes + (Self.blockFormats.contains(format) ? Self.panelShapes : [])
        for (index, (rows, outputs, k)) in shapes.enumerated() {
            let operands = operands(format, rows: rows, outputs: outputs, k: k, seed: UInt64(40 + index))
            let fast = product(format, operands, rows: rows, outputs: outputs, k: k, reference: false)
            let twin = product(format, operands, rows: rows, outputs: outputs, k: k, reference: true)
            let tolerance = [.q4_0, .q5_0, .q4_1, .q5_1].contains(format) ? Self.offsetPathTolerance : Self.pathTolerance
            #expect(maxRelativeError(fast, twin, floor: 1) < tolerance, "\(format) \(rows)×\(outputs)×\(k)")
        }
    }

    /// One-row (decode) 16-bit products take 16 values a step in two sums per row, then 8, then
    /// single values: reduction lengths that end in each of those, and 1–3 leftover outputs.
    @Test(arguments: [WeightFormat.f16, .bf16])
    func testQuantizedProduct_oneRowHalfMatchesItsScalarTwin(format: WeightFormat) {
        for (index, (outputs, k)) in [(9, 40), (6, 27), (7, 16), (5, 8), (3, 5), (11, 385)].enumerated() {
            let operands = operands(format, rows: 1, outputs: outputs, k: k, seed: UInt64(90 + index))
            let fast = product(format, operands, rows: 1, outputs: outputs, k: k, reference: false)
            let twin = product(format, operands, rows: 1, outputs: outputs, k: k, reference: true)
            #expect(maxRelativeError(fast, twin, floor: 1) < Self.pathTolerance, "\(format) 1×\(outputs)×\(k)")
        }
    }

    /// The packed-panel path (8 outputs a panel, integer sums across the rows' lanes) against the
    /// scalar twin on every shape, 1–3 activation rows and partial panels included.
    @Test(arguments: blockFormats)
    func testQuantizedProduct_panelPathMatchesItsScalarTwin(format: WeightFormat) {
        for (index, (rows, outputs, k)) in (Self.shapes + Self.panelShapes + [(2, 9, 64), (3, 1, 32), (7, 23, 352)]).enumerated() {
            let operands = operands(format, rows: rows, outputs: outputs, k: k, seed: UInt64(70 + index))
            let panel = product(format, operands, rows: rows, outputs: outputs, k: k, reference: false, panel: true)
            let twin = product(format, operands, rows: rows, outputs: outputs, k: k, reference: true)
            let tolerance = format == .q8_0 ? Self.pathTolerance : Self.offsetPathTolerance
            #expect(maxRelativeError(panel, twin, floor: 1) < tolerance, "\(format) \(rows)×\(outputs)×\(k)")
        }
    }

    /// The product equals Σ w·a over the dequantized weights and the activations as quantized
    /// (computed in Double), plus what it accumulated onto.
    @Test(arguments: formats)
    func testQuantizedProduct_isTheDotProductOfTheDequantizedOperands(format: WeightFormat) {
        let (rows, outputs, k) = (3, 9, 96)
        let operands = operands(format, rows: rows, outputs: outputs, k: k, seed: 7)
        let y = product(format, operands, rows: rows, outputs: outputs, k: k, reference: true)
        let x = quantizedActivations(format, operands.activations, rows: rows, k: k)
        var w = [Float](repeating: 0, count: k)
        for o in 0..<outputs {
            operands.weights.withUnsafeBytes { format.dequantizeRow($0.baseAddress! + o * operands.rowBytes, into: &w, count: k) }
            for r in 0..<rows {
                var sum = 0.5
                for i in 0..<k { sum += Double(w[i]) * Double(x[r * k + i]) }
                #expect(abs(Float(sum) - y[r * outputs + o]) <= 1e-4 * max(1, abs(Float(sum))), "\(format) o \(o) r \(r)")
            }
        }
    }

    /// The activations as the kernel sees them: 8-bit codes times their scale (fp32 for 16-bit weights).
    func quantizedActivations(_ format: WeightFormat, _ x: [Float], rows: Int, k: Int) -> [Float] {
        guard format.halfPrecision == nil else { return x }
        if format == .int8 {
            return (0..<rows).flatMap { r -> [Float] in
                let row = Array(x[(r * k)..<((r + 1) * k)])
                let scale = row.map(abs).max()! / 127
                return row.map { ($0 / scale).rounded(.toNearestOrEven) * scale }
            }
        }
        return stride(from: 0, to: x.count, by: 32).flatMap { start -> [Float] in
            let block = Array(x[start..<(start + 32)])
            let d = block.map(abs).max()! / 127
            return block.map { ($0 * (1 / d)).rounded(.toNearestOrEven) * d }
        }
    }

    @Test func testActivationQuantizer_roundsEachBlockToItsOwnScale() {
        let k = 64
        var x = (0..<k).map { Float($0 - 32) / 8 }
        x[40] = 0   // a block with a zero
        let type = WeightFormat.q8_0.kernelType!
        var bytes = [UInt8](repeating: 0, count: ck_qact_row_bytes(type, k))
        bytes.withUnsafeMutableBytes { ck_quantize_activations(type, x, 1, k, $0.baseAddress!) }
        // Two scales, two scaled sums, padded to 32 bytes, then 2 × 32 codes.
        #expect(bytes.count == 32 + 2 * 32)
        let firstScale = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: Float.self) }
        #expect(firstScale == 4.0 / 127)   // block 0 holds −4 … −0.125
        let codes = bytes[32..<64].map { Int8(bitPattern: $0) }
        #expect(codes.first == -127 && codes.allSatisfy { $0 <= 0 })
        let firstSum = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: Float.self) }
        #expect(firstSum == firstScale * Float(codes.reduce(0) { $0 + Int($1) }))
    }

    /// The AVX2 quantizer writes the same bytes as the scalar one (same roundings), ties included.
    @Test(arguments: [WeightFormat.q8_0, .q4_1, .int8])
    func testActivationQuantizer_fastPathWritesTheScalarBytes(format: WeightFormat) {
        var generator = RandomGenerator(seed: 11)
        let (rows, k) = (5, 352)
        var x = (0..<(rows * k)).map { _ in generator.nextNormal() * 3 }
        for i in stride(from: 0, to: x.count, by: 7) { x[i] = (x[i] * 4).rounded() / 4 }   // halfway cases
        for i in 0..<32 { x[i] = 0 }   // a zero block
        let type = format.kernelType!
        let count = rows * ck_qact_row_bytes(type, k)
        var fast = [UInt8](repeating: 1, count: count), twin = [UInt8](repeating: 2, count: count)
        fast.withUnsafeMutableBytes { ck_quantize_activations(type, x, rows, k, $0.baseAddress!) }
        twin.withUnsafeMutableBytes { ck_quantize_activations_reference(type, x, rows, k, $0.baseAddress!) }
        #expect(fast == twin)
    }

    /// The threaded entry (quantize, then multiply on the pool) equals the single-threaded pieces.
    @Test(arguments: [WeightFormat.q4_0, .q8_0, .q5_1, .f16, .int8])
    func testQuantizedProduct_threadedMatchesOneThread(format: WeightFormat) {
        for (rows, outputs, k) in [(1, 37, 64), (7, 70, 96), (3, 2, 32), (12, 37, 96)] {
            let operands = operands(format, rows: rows, outputs: outputs, k: k, seed: 5)
            let single = product(format, operands, rows: rows, outputs: outputs, k: k, reference: false)
            let type = format.kernelType!
            var scratch = [UInt8](repeating: 0, count: rows * ck_qact_row_bytes(type, k))
            for threads in [1, 2, 3] {
                var y = [Float](repeating: 0.5, count: rows * outputs)
                operands.weights.withUnsafeBytes { w in
                    scratch.withUnsafeMutableBytes { s in
                        ck_qgemm_threaded(type, rows, outputs, k, w.baseAddress!, operands.rowBytes, operands.activations,
                                          s.baseAddress!, &y, outputs, 1, Int32(threads))
                    }
                }
                #expect(y == single, "\(format) \(rows)×\(outputs)×\(k) on \(threads) threads")
            }
        }
    }
}
