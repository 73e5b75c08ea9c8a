// Whittle's weight types against the `gguf` package's reference quantizers: every row of the
// committed fixture (`Fixtures/gguf-quants/vectors.bin`, written by
// `bench/fixtures/gguf_quant_vectors.py`: random rows with edge-case blocks and real rows of the tiny
// sample model) must quantize to the same bytes and dequantize to the same bits, for every GGUF type
// in the format table. Also the table's constants, the one input where Whittle follows ggml's C code
// rather than the package (a block of negative zeros), and the int8 per-channel row layout.

import Foundation
import Testing
@testable import WhittleEngine

/// The fixture: rows of fp32 weights with the package's bytes and dequantized values per type.
struct GGUFVectors {
    struct Encoding { let ggufType: UInt32; let bytes: [UInt8]; let dequantized: [Float] }
    struct Row { let label: String; let values: [Float]; let encodings: [Encoding] }
    let note: String
    let rows: [Row]

    static let shared: GGUFVectors = {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("gguf-quants/vectors.bin")
        return GGUFVectors(bytes: [UInt8](try! Data(contentsOf: url)))
    }()

    init(bytes: [UInt8]) {
        var at = 0
        func take(_ n: Int) -> ArraySlice<UInt8> { defer { at += n }; return bytes[at..<(at + n)] }
        func uint(_ n: Int) -> Int { take(n).reversed().reduce(0) { $0 << 8 | Int($1) } }
        func text() -> String { String(decoding: take(uint(2)), as: UTF8.self) }
        func floats(_ count: Int) -> [Float] { (0..<count).map { _ in Float(bitPattern: UInt32(uint(4))) } }
        precondition(String(decoding: take(4), as: UTF8.self) == "WQV1", "not a WQV1 fixture")
        note = text()
        rows = (0..<uint(4)).map { _ in
            let label = text(), count = uint(4)
            let values = floats(count)
            let encodings = (0..<uint(1)).map { _ in
                let type = UInt32(uint(4))
                return Encoding(ggufType: type, bytes: Array(take(uint(4))), dequantized: floats(count))
            }
            return Row(label: label, values: values, encodings: encodings)
        }
        precondition(at == bytes.count, "trailing bytes in the fixture")
    }
}

@Suite struct GGUFQuantizationTests {
    static let ggufTypes: [WeightFormat] = [.f16, .bf16, .q8_0, .q5_1, .q5_0, .q4_1, .q4_0]

    @Test func testFixture_coversEveryGGUFTypeOfTheTable() {
        let vectors = GGUFVectors.shared
        let inFixture = Set(vectors.rows.flatMap { $0.encodings.map(\.ggufType) })
        let inTable = WeightFormat.allCases.filter { $0 != .f32 && $0.traits.ggufType != nil }
        #expect(Set(inTable) == Set(Self.ggufTypes))
        #expect(inFixture == Set(Self.ggufTypes.map { $0.traits.ggufType! }))
        #expect(vectors.rows.contains { $0.label.hasPrefix("h.3.mlp.c_proj.weight") && $0.values.count == 512 })
    }

    @Test(arguments: GGUFQuantizationTests.ggufTypes)
    func testQuantizeRow_isByteIdenticalToGGUFsReferenceQuantizer(format: WeightFormat) throws {
        var rowsChecked = 0
        for row in GGUFVectors.shared.rows {
            guard let expected = row.encodings.first(where: { $0.ggufType == format.traits.ggufType }) else { continue }
            let count = row.values.count
            var bytes = [UInt8](repeating: 0xA5, count: try #require(format.rowBytes(count)))
            bytes.withUnsafeMutableBytes { format.quantizeRow(row.values, into: $0.baseAddress!, count: count) }
            #expect(bytes.count == expected.bytes.count, "\(format) \(row.label)")
            if bytes != expected.bytes {
                let first = zip(bytes, expected.bytes).enumerated().first { $1.0 != $1.1 }!.offset
                let block = first / format.traits.bytesPerBlock
                Issue.record("\(format) \(row.label): byte \(first) (block \(block)) is \(bytes[first]), gguf's \(expected.bytes[first])")
            }
            rowsChecked += 1
        }
        #expect(rowsChecked >= 33, "\(format): \(rowsChecked) rows")
    }

    @Test(arguments: GGUFQuantizationTests.ggufTypes)
    func testDequantizeRow_isBitIdenticalToGGUFsDequantization(format: WeightFormat) {
        var rowsChecked = 0
        for row in GGUFVectors.shared.rows {
            guard let encoded = row.encodings.first(where: { $0.ggufType == format.traits.ggufType }) else { continue }
            var values = [Float](repeating: .nan, count: row.values.count)
            encoded.bytes.withUnsafeBytes { format.dequantizeRow($0.baseAddress!, into: &values, count: values.count) }
            let mismatch = zip(values, encoded.dequantized).enumerated().first { _, pair in
                pair.0.bitPattern != pair.1.bitPattern
            }
            if let mismatch {
                Issue.record("\(format) \(row.label): weight \(mismatch.offset) is \(mismatch.element.0), gguf's \(mismatch.element.1)")
            }
            rowsChecked += 1
        }
        #expect(rowsChecked >= 33)
    }

    @Test func testTraits_followGGMLsBlockLayouts() {
        let expected: [(WeightFormat, block: Int, bytes: Int, id: UInt32?, bits: Double)] = [
            (.f32, 1, 4, 0, 32), (.f16, 1, 2, 1, 16), (.bf16, 1, 2, 30, 16), (.q8_0, 32, 34, 8, 8.5),
            (.q5_1, 32, 24, 7, 6), (.q5_0, 32, 22, 6, 5.5), (.q4_1, 32, 20, 3, 5), (.q4_0, 32, 18, 2, 4.5),
            (.int8, 1, 1, nil, 8),
        ]
        #expect(expected.map(\.0) == WeightFormat.allCases)
        for (format, block, bytes, id, bits) in expected {
            #expect(format.traits.blockSize == block && format.traits.bytesPerBlock == bytes, "\(format)")
            #expect(format.traits.ggufType == id && format.bitsPerWeight == bits, "\(format)")
            if let id { #expect(WeightFormat(ggufType: id) == format) }
            #expect(format.isQuantized == (block > 1 || format == .int8))
        }
        #expect(WeightFormat(ggufType: 10) == nil)                    // Q2_K: not in the table
        #expect(WeightFormat.q4_0.rowBytes(128) == 72 && WeightFormat.q5_1.rowBytes(48) == nil)
        #expect(WeightFormat.int8.rowBytes(128) == 132 && WeightFormat.int8.bitsPerWeight(rowLength: 128) == 8.25)
        #expect(WeightFormat.q4_0.bitsPerWeight(rowLength: 64) == 4.5)
    }

    /// ggml's `quantize_row_q4_0_ref` starts its search from +0, so a block of zeros has max +0 and
    /// d = +0 / −8 = −0 whatever the zeros' signs; the `gguf` package takes the first element, so for
    /// a block of −0.0 it stores +0. Whittle follows ggml (pruned weights are such blocks).
    @Test(arguments: [WeightFormat.q4_0, .q5_0])
    func testZeroBlock_scaleIsNegativeZeroAsInGGML(format: WeightFormat) {
        for zero in [Float(0), -Float(0)] {
            let x = [Float](repeating: zero, count: 32)
            var row = [UInt8](repeating: 0xFF, count: format.rowBytes(32)!)
            row.withUnsafeMutableBytes { format.quantizeRow(x, into: $0.baseAddress!, count: 32) }
            #expect(row[0] == 0x00 && row[1] == 0x80, "\(format): d is −0 in fp16")
            let offset = format == .q4_0 ? 8 : 16
            var back = [Float](repeating: .nan, count: 32)
            row.withUnsafeBytes { format.dequantizeRow($0.baseAddress!, into: &back, count: 32) }
            #expect(back.allSatisfy { $0 == 0 }, "\(format): codes are the zero point \(offset)")
        }
    }

    @Test func testInt8_rowIsCodesThenAnFP32ScaleRoundedLikeQ8_0() {
        // max |w| = 127 gives s = 1: codes are round(w), halves away from zero.
        var x = [Float](repeating: 0, count: 64)
        x[0] = -127; x[1] = 2.5; x[2] = -2.5; x[3] = 0.49; x[40] = 126.5; x[63] = 3
        var row = [UInt8](repeating: 0xFF, count: 68)
        row.withUnsafeMutableBytes { WeightFormat.int8.quantizeRow(x, into: $0.baseAddress!, count: 64) }
        #expect(row[0..<4].map { Int8(bitPattern: $0) } == [-127, 3, -3, 0])
        #expect(Int8(bitPattern: row[40]) == 127 && row[63] == 3 && row[4..<40].allSatisfy { $0 == 0 })
        #expect(row[64...].elementsEqual(withUnsafeBytes(of: Float(1).bitPattern.littleEndian) { Array($0) }))
        // A real scale: every weight comes back within half a step.
        let w = (0..<96).map { Float(sin(Double($0) * 0.7)) * 0.05 }
        var bytes = [UInt8](repeating: 0, count: 100), back = [Float](repeating: .nan, count: 96)
        bytes.withUnsafeMutableBytes { WeightFormat.int8.quantizeRow(w, into: $0.baseAddress!, count: 96) }
        bytes.withUnsafeBytes { WeightFormat.int8.dequantizeRow($0.baseAddress!, into: &back, count: 96) }
        let scale = bytes.withUnsafeBytes { RowInt8.scale($0.baseAddress!, count: 96) }
        #expect(scale == w.map(abs).max()! / 127)
        #expect(zip(w, back).allSatisfy { abs($0 - $1) <= scale / 2 * 1.0001 })
        #expect(bytes[0..<96].contains { Int8(bitPattern: $0) == 127 || Int8(bitPattern: $0) == -127 })
        // A row of zeros: scale 0, codes 0.
        bytes.withUnsafeMutableBytes { WeightFormat.int8.quantizeRow([Float](repeating: 0, count: 96), into: $0.baseAddress!, count: 96) }
        #expect(bytes.allSatisfy { $0 == 0 })
    }
}
