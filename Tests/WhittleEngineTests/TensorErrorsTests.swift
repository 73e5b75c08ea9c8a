// Per-tensor weight errors of a variant against its base: the reference Q8_0 GGUF of the tiny sample
// model has a small nonzero error in every quantized tensor (the q8_0 embedding smaller than a 4-bit
// type would give), and the base against itself has none.

import Testing
import WhittleTestSupport

@testable import WhittleEngine

@Suite struct TensorErrorsTests {
    static let base = Repository.path("sample-models/shakespeare-char-tiny")
    static let q8 = Repository.path("Tests/WhittleEngineTests/Fixtures/gguf-reference/tiny-q8_0.gguf")

    @Test func testTensorErrors_q8VariantAgainstItsBase() throws {
        let base = try LoadedModel.load(Self.base)
        let errors = try TensorErrors.measure(base: base, variant: try LoadedModel.load(Self.q8))
        #expect(errors.count == base.weights.layout.tensors.filter(QuantizationPlan.isQuantizable).count)
        for error in errors {
            #expect(error.format == .q8_0)
            #expect(error.relativeError > 0 && error.relativeError < 1e-3, "\(error)")
        }
        #expect(try TensorErrors.measure(base: base, variant: base).allSatisfy { $0.relativeError == 0 && $0.format == .f32 })
    }

    @Test func testTensorErrors_aQuantizedBaseIsRefused() throws {
        let q8 = try LoadedModel.load(Self.q8)
        #expect(throws: WhittleError.self) { try TensorErrors.measure(base: q8, variant: q8) }
    }
}
