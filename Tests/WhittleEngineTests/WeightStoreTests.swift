// Weight formats and the weight store: GGUF's Q8_0 block layout and rounding, and one forward
// pass over weights stored in any format — a store of f32 tensors gives the training arena's
// logits bit for bit, and a store in every other format of the table (16-bit, GGUF's block types,
// int8 per channel) gives the logits of its own dequantized values, in the batched forward and in
// the KV-cached decoder alike. Every GGUF type's bytes are checked against the `gguf` package in
// GGUFQuantizationTests.

import Testing
@testable import WhittleEngine

@Suite struct WeightStoreTests {
    /// Relative agreement of two float32 forward passes that sum in different orders.
    static let tolerance: Float = 1e-4
    /// Largest change of a logit (relative to max(|logit|, 1)) from rounding activations to 8-bit
    /// blocks, as the quantized kernels and llama.cpp do; measured ≤ 3e-3 on this model.
    static let activationRounding: Float = 1e-2

    @Test func testQ8_0_blockLayoutAndRoundingFollowGGML() {
        // amax 127 gives d = 1 exactly: q = round(x), halves away from zero.
        var x = [Float](repeating: 0, count: 32)
        x[0] = 127; x[1] = 2.5; x[2] = -2.5; x[3] = 0.49; x[4] = -127; x[5] = 126.5
        var row = [UInt8](repeating: 0, count: 34)
        row.withUnsafeMutableBytes { WeightFormat.q8_0.quantizeRow(x, into: $0.baseAddress!, count: 32) }
        #expect(UInt16(row[0]) | UInt16(row[1]) << 8 == Float16(1).bitPattern)
        #expect(row[2...7].map { Int8(bitPattern: $0) } == [127, 3, -3, 0, -127, 127])
        var back = [Float](repeating: .nan, count: 32)
        row.withUnsafeBytes { WeightFormat.q8_0.dequantizeRow($0.baseAddress!, into: &back, count: 32) }
        #expect(Array(back[0..<6]) == [127, 3, -3, 0, -127, 127])
        // An all-zero block has scale 0 and zero codes.
        let zeros = [Float](repeating: 0, count: 32)
        row.withUnsafeMutableBytes { WeightFormat.q8_0.quantizeRow(zeros, into: $0.baseAddress!, count: 32) }
        #expect(row.allSatisfy { $0 == 0 })
        #expect(WeightFormat.q8_0.bitsPerWeight == 8.5 && WeightFormat.q8_0.rowBytes(64) == 68 && WeightFormat.q8_0.rowBytes(48) == nil)
    }

    /// The fixture-sized model (width 32, so every matrix row is whole Q8_0 blocks) and a window of tokens.
    func model() throws -> GPTModel {
        let config = ModelConfig(layerCount: 2, headCount: 4, embeddingWidth: 32, contextLength: 16, vocabularySize: 65)
        let model = try GPTModel(config: config)
        model.parameters.copy(from: try Fixture.parameters(model.layout))
        return model
    }

    static let tokens: [Int32] = [45, 12, 56, 56, 3, 57, 2, 44, 61, 23, 31, 18]

    func logits(_ weights: ModelWeights, path: KernelPath = .fast) -> [Float] {
        let arena = ActivationArena(dimensions: weights.dimensions, B: 1, T: Self.tokens.count)
        for (i, token) in Self.tokens.enumerated() { arena.tokens[i] = token }
        GPT.forward(weights: weights, arena: arena, withTargets: false, path: path)
        return arena.logits.array
    }

    /// An fp32 arena holding what `store` holds, dequantized (and transposed back to the training layout).
    func dequantized(_ store: WeightStore, like model: GPTModel) -> GPTModel {
        let copy = try! GPTModel(config: model.config)
        for (stored, tensor) in zip(store.tensors, model.layout.tensors) {
            let rowLength = stored.shape.last!, rows = stored.count / rowLength
            var row = [Float](repeating: 0, count: rowLength)
            for r in 0..<rows {
                stored.format.dequantizeRow(store.data(stored) + r * stored.format.rowBytes(rowLength)!,
                                            into: &row, count: rowLength)
                for k in 0..<rowLength {
                    let index = tensor.orientation == .inputMajor && stored.orientation == .outputMajor ? k * rows + r : r * rowLength + k
                    copy.parameters[tensor.offset + index] = row[k]
                }
            }
        }
        return copy
    }

    @Test func testStore_f32TensorsGiveTheArenasLogitsBitForBit() throws {
        let model = try model()
        let store = WeightStore(layout: model.layout, parameters: model.parameters.pointer) { _ in .f32 }
        #expect(store.tensor(named: "h.0.mlp.c_fc.weight")?.orientation == .inputMajor)
        #expect(logits(store.weights) == logits(model.weights))
    }

    @Test(arguments: WeightFormat.allCases.filter { $0 != .f32 })
    func testStore_quantizedWeightsRunTheSameForwardAsTheirDequantizedValues(format: WeightFormat) throws {
        let model = try model()
        let store = WeightStore(layout: model.layout, parameters: model.parameters.pointer) { _ in format }
        let stored = try #require(store.tensor(named: "h.1.attn.c_attn.weight"))
        #expect(stored.format == format && stored.orientation == .outputMajor && stored.shape == [96, 32])
        #expect(store.tensor(named: "h.1.ln_1.weight")?.format == .f32)
        // The reference kernels compute with the stored weights' exact values.
        let reference = dequantized(store, like: model)
        let expected = logits(reference.weights)
        #expect(maxRelativeError(logits(store.weights, path: .reference), expected) < Self.tolerance)
        // Rounding changed the model, measurably but not much.
        let original = logits(model.weights)
        #expect(original != expected && maxRelativeError(original, expected, floor: 1) < 0.05)
        // The fast kernels also round each activation row to 8 bits (16-bit weights multiply fp32 rows).
        let fast = logits(store.weights)
        let bound = format.halfPrecision != nil ? Self.tolerance : Self.activationRounding
        #expect(maxRelativeError(fast, expected, floor: 1) < bound)
        // The decoder runs the same operands and kernels.
        let decoder = GPTDecoder(weights: store.weights)
        decoder.prefill(Array(Self.tokens.prefix(4)))
        let V = model.config.vocabularySize
        for position in 4..<Self.tokens.count {
            decoder.decode(Self.tokens[position])
            #expect(maxRelativeError(decoder.logits.array, Array(fast[(position * V)..<((position + 1) * V)])) < Self.tolerance)
        }
    }

    @Test(arguments: WeightFormat.allCases)
    func testStore_sizeFollowsTheFormatTable(format: WeightFormat) throws {
        let model = try model()
        let store = WeightStore(layout: model.layout, parameters: model.parameters.pointer) { _ in format }
        let matrices = model.layout.tensors.filter { $0.role == .tokenEmbedding || $0.role.isLinearWeight }
        let matrixCount = matrices.reduce(0) { $0 + $1.count }
        // Matrices as output-major rows of their reduction length, each row `rowBytes` of it.
        let matrixBytes = try matrices.reduce(0) { total, t in
            let K = t.orientation == .inputMajor ? t.shape[0] : t.shape[1]
            return total + t.count / K * (try #require(format.rowBytes(K)))
        }
        #expect(store.payloadBytes == (model.layout.totalCount - matrixCount) * 4 + matrixBytes)
        if format == .q8_0 { #expect(matrixBytes == matrixCount / 32 * 34) }
        // int8: one byte per weight plus a 4-byte scale per output row (wte's 65, then per block qkv,
        // projection, MLP up and down).
        if format == .int8 { #expect(matrixBytes == matrixCount + (65 + 2 * (96 + 32 + 128 + 32)) * 4) }
        #expect(store.byteCount % WeightStore.alignment == 0 && store.tensors.allSatisfy { $0.byteOffset % WeightStore.alignment == 0 })
    }
}
