// Pruned models as a whole: structured removal of zero-importance heads and neurons leaves the
// logits unchanged and every head of a block is never removed; the sparse weights file round-trips
// values and mask; a recovery run keeps every pruned weight at exactly zero and resumes bit for
// bit with its mask; export pads removed heads back without changing the logits; a prune pass
// survives variant.json's strict reader.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite(.serialized) struct PruningModelTests {
    /// Logits of a pruned-then-padded or smaller model against the original (fp32, other summation order).
    static let logitTolerance: Float = 1e-4

    func model(seed: UInt64 = 21) throws -> GPTModel {
        var generator = RandomGenerator(seed: seed)
        return try GPTModel.initialized(config: ModelConfig(layerCount: 2, headCount: 4, embeddingWidth: 16, contextLength: 8,
                                                            vocabularySize: 13), generator: &generator)
    }

    func logits(_ model: GPTModel) -> [Float] {
        let tokens: [Int32] = [1, 5, 2, 12, 7, 0, 3, 9]
        let arena = ActivationArena(dimensions: model.config.dimensions, B: 1, T: tokens.count)
        for (i, token) in tokens.enumerated() { arena.tokens[i] = token }
        GPT.forward(weights: model.weights, arena: arena, withTargets: false)
        return arena.logits.array
    }

    /// Zeroes head `head`'s rows of block `layer`'s attention c_proj, and neuron `neuron`'s row of its MLP c_proj.
    func silence(_ model: GPTModel, layer: Int, head: Int, neuron: Int) {
        let d = model.layout.dimensions, block = model.layout.blocks[layer], p = model.parameters.pointer
        for i in (head * d.headWidth)..<((head + 1) * d.headWidth) { for c in 0..<d.C { p[block.projWeight + i * d.C + c] = 0 } }
        for c in 0..<d.C { p[block.fcProjWeight + neuron * d.C + c] = 0 }
    }

    /// Statistics from real activations of `model` on a few windows.
    func statistics(_ model: GPTModel) throws -> CalibrationStatistics {
        let tokens: [Int32] = (0..<200).map { (i: Int) -> Int32 in Int32((i * 7 + i / 3) % 13) }
        return try CalibrationStatistics.collect(model: model, tokens: tokens, name: "test", samples: 8, seed: 1)
    }

    @Test func testStructured_zeroImportanceHeadsAndNeuronsGoAndTheLogitsStay() throws {
        let base = try model()
        silence(base, layer: 0, head: 2, neuron: 5)
        silence(base, layer: 1, head: 0, neuron: 40)
        let expected = logits(base)
        let calibration = try statistics(base)
        for method in [PruningMethod.magnitude, .wanda] {
            let heads = try StructuredPruner.prune(base, plan: PruningPlan(method: method, sparsity: 0.25, structured: .heads), calibration: calibration)
            #expect(heads.removed == [[2], [0]], "\(method)")
            #expect(heads.importance[0][2] == 0 && heads.importance[1][0] == 0)
            #expect(heads.model.config.layers.map(\.heads) == [3, 3])
            #expect(heads.model.parameterCount < base.parameterCount)
            #expect(maxRelativeError(logits(heads.model), expected) < Self.logitTolerance, "\(method) heads")

            let neurons = try StructuredPruner.prune(base, plan: PruningPlan(method: method, sparsity: 1.0 / 64, structured: .neurons),
                                                     calibration: calibration)
            #expect(neurons.removed == [[5], [40]], "\(method)")
            #expect(neurons.model.config.layers.map(\.hiddenWidth) == [63, 63])
            #expect(maxRelativeError(logits(neurons.model), expected) < Self.logitTolerance, "\(method) neurons")
            // Export pads the removed units back as zeros: same logits, uniform shape transformers 5 can load.
            let padded = try ModelExport.padded(heads.model)
            #expect(padded.config.isUniform && padded.parameterCount == base.parameterCount)
            #expect(maxRelativeError(logits(padded), expected) < Self.logitTolerance)
        }
    }

    @Test func testStructured_removingEveryHeadOfABlockIsRefused() throws {
        let base = try model()
        let error = #expect(throws: WhittleError.self) { try StructuredPruner.removing(base, heads: [[0, 1, 2, 3], []]) }
        #expect(error?.kind == .invalidConfig && error?.message.contains("every head of block 0") == true)
        let rounded = #expect(throws: WhittleError.self) {
            try StructuredPruner.prune(base, plan: PruningPlan(method: .magnitude, sparsity: 0.9, structured: .heads), calibration: nil)
        }
        #expect(rounded?.message.contains("every head") == true)
        #expect(throws: WhittleError.self) { try StructuredPruner.removing(base, heads: [[4], []]) }
        let none = #expect(throws: WhittleError.self) {
            try StructuredPruner.prune(base, plan: PruningPlan(method: .magnitude, sparsity: 0.1, structured: .heads), calibration: nil)
        }
        #expect(none?.message.contains("removes no heads") == true)
    }

    @Test func testSparseFile_roundTripsValuesAndMaskInFewerBytes() throws {
        let directory = TemporaryDirectory()
        let base = try model()
        let result = try Pruner.prune(base, plan: PruningPlan(method: .magnitude, sparsity: 0.5), calibration: nil)
        let tokenizer = CharTokenizer(text: "abcdefghijklm")
        try ModelDirectory.save(model: result.model, tokenizer: tokenizer, to: directory.path + "/sparse", mask: result.mask)
        try ModelDirectory.save(model: result.model, tokenizer: tokenizer, to: directory.path + "/dense")
        let loaded = try ModelDirectory.loadWithMask(directory.path + "/sparse")
        #expect(loaded.mask == result.mask)
        #expect(loaded.model.parameters.array == result.model.parameters.array)
        let sparseBytes = try LoadedModel.fileSize(directory.path + "/sparse/" + ModelDirectory.sparseWeightsName)
        let denseBytes = try LoadedModel.fileSize(directory.path + "/dense/" + ModelDirectory.weightsName)
        #expect(sparseBytes < denseBytes)
        #expect(try ModelDirectory.loadWithMask(directory.path + "/dense").mask == nil)
    }

    /// A sparse weights file that lies (bitmap length, bits past the end, value count, a NaN) is refused.
    @Test func testSparseFile_hostileBitmapsAndValueCountsAreRefused() throws {
        let directory = TemporaryDirectory()
        let base = try model()
        let result = try Pruner.prune(base, plan: PruningPlan(method: .magnitude, sparsity: 0.5), calibration: nil)
        let tokenizer = CharTokenizer(text: "abcdefghijklm")
        let name = "transformer.h.0.mlp.c_proj.weight"
        let good = try ModelDirectory.sparseWeights(model: result.model, mask: result.mask, metadata: [:])
        let file = try SafetensorsFile(bytes: good)
        func rewrite(_ change: (inout [SafetensorsWriter.RawTensor]) -> Void) throws -> [UInt8] {
            var tensors = try file.tensorNames.map { tensorName -> SafetensorsWriter.RawTensor in
                let info = file.info(tensorName)!
                return .init(name: tensorName, dataType: info.dataType, shape: info.shape, bytes: Array(try file.rawBytes(tensorName)))
            }
            change(&tensors)
            return try SafetensorsWriter.serialize(tensors)
        }
        let kept = tensorsIndex(file, name + ".kept"), values = tensorsIndex(file, name + ".values")
        let cases: [(String, [UInt8])] = [
            ("U8 of shape", try rewrite { $0[kept].bytes.removeLast(); $0[kept].shape = [$0[kept].bytes.count] }),
            ("must hold", try rewrite { $0[kept].bytes[0] ^= 0x01 }),
            ("must hold", try rewrite { $0[values].bytes.removeLast(4); $0[values].shape = [$0[values].bytes.count / 4] }),
            ("non-finite", try rewrite { $0[values].bytes.replaceSubrange(0..<4, with: [0, 0, 0xC0, 0x7F]) }),
            ("unexpected tensor", try rewrite { $0.append(.init(name: "extra", dataType: .u8, shape: [1], bytes: [0])) }),
        ]
        for (index, (fragment, bytes)) in cases.enumerated() {
            let path = directory.path + "/bad\(index)"
            try ModelDirectory.save(model: result.model, tokenizer: tokenizer, to: path, mask: result.mask)
            try FileIO.writeFile(bytes, to: path + "/" + ModelDirectory.sparseWeightsName, sync: false)
            try FileManager.default.removeItem(atPath: path + "/" + AtomicDirectory.manifestName)
            let error = #expect(throws: WhittleError.self, "\(fragment)") { try ModelDirectory.loadWithMask(path) }
            #expect(error?.kind == .invalidFile && error?.message.contains(fragment) == true, "\(error?.message ?? "")")
        }
    }

    func tensorsIndex(_ file: SafetensorsFile, _ name: String) -> Int { file.tensorNames.firstIndex(of: name)! }

    @Test func testRecovery_prunedWeightsStayZeroAndTheMaskSurvivesCheckpointAndResume() throws {
        let directory = TemporaryDirectory()
        var config = try TinyTraining.config(in: directory.path)
        let data = try TrainingRun.prepareData(config)
        var generator = RandomGenerator(seed: 4)
        let dense = try GPTModel.initialized(config: ModelConfig(layerCount: 2, headCount: 2, embeddingWidth: 16, contextLength: 16,
                                                                 vocabularySize: data.tokenizer.vocabularySize), generator: &generator)
        let pruned = try Pruner.prune(dense, plan: PruningPlan(method: .magnitude, sparsity: 0.5), calibration: nil)
        try ModelDirectory.save(model: pruned.model, tokenizer: data.tokenizer, to: directory.path + "/pruned", mask: pruned.mask)
        config.initFrom = directory.path + "/pruned"
        config.weightDecay = 0.1   // decay and momentum would move a zero weight if nothing held it

        let straight = try TrainingRun.start(config: config, directory: directory.path + "/straight")
        #expect(straight.trainer.mask == pruned.mask)
        var reference: [Float] = []
        for _ in 0..<8 {
            reference.append(try straight.step().loss)
            #expect(pruned.mask.holds(in: straight.trainer.model.parameters.pointer))
        }
        #expect(reference.last! < reference.first!)
        // The optimizer state of every pruned weight is zero too.
        for entry in pruned.mask.entries {
            let index = straight.trainer.model.layout.tensors.firstIndex { $0.name == entry.tensor }!
            for array in straight.trainer.optimizerState.slots[index] {
                guard case .float32(let buffer) = array.storage else { continue }
                #expect((0..<entry.count).allSatisfy { entry.isKept($0) || buffer.pointer[$0] == 0 }, "\(array.name) of \(entry.tensor)")
            }
        }

        let first = try TrainingRun.start(config: config, directory: directory.path + "/split")
        var split = try (0..<4).map { _ in try first.step().loss }   // checkpoint at step 4, weights stored sparse
        first.close()
        #expect(FileIO.exists(directory.path + "/split/ckpt-000004/" + ModelDirectory.sparseWeightsName))
        let second = try TrainingRun.resume(directory: directory.path + "/split")
        #expect(second.trainer.mask == pruned.mask)
        split += try (0..<4).map { _ in try second.step().loss }
        #expect(split == reference)
        #expect(second.trainer.model.parameters.array == straight.trainer.model.parameters.array)
        #expect(pruned.mask.holds(in: second.trainer.model.parameters.pointer))
    }

    /// The mask holds whatever the run's features: 16-bit activations, two workers, activation
    /// checkpointing, and optimizers whose steps would move a zero weight (Lion's sign, momentum).
    @Test(arguments: [(Precision.bf16, OptimizerKind.lion), (.fp16, .momentum), (.fp32, .adamw8bit)])
    func testRecovery_maskHoldsWithEveryTrainingFeature(_ precision: Precision, _ optimizer: OptimizerKind) throws {
        let directory = TemporaryDirectory()
        var config = try TinyTraining.config(in: directory.path, workers: 2)
        let data = try TrainingRun.prepareData(config)
        var generator = RandomGenerator(seed: 8)
        let dense = try GPTModel.initialized(config: ModelConfig(layerCount: 2, headCount: 2, embeddingWidth: 16, contextLength: 16,
                                                                 vocabularySize: data.tokenizer.vocabularySize), generator: &generator)
        let pruned = try Pruner.prune(dense, plan: PruningPlan(method: .magnitude, sparsity: 0.5, pattern: SparsityPattern(keep: 2, group: 4)),
                                      calibration: nil)
        config.precision = precision
        config.optimizer = optimizer
        config.checkpointing = "true"
        config.maxIterations = 4
        let trainer = try Trainer(config: config, tokenizer: data.tokenizer, data: data.splits, initialModel: pruned.model, mask: pruned.mask)
        let before = trainer.model.parameters.array
        for _ in 0..<4 {
            try trainer.trainStep()
            #expect(pruned.mask.holds(in: trainer.model.parameters.pointer), "\(precision) \(optimizer)")
        }
        #expect(trainer.model.parameters.array != before)   // the kept weights did train
    }

    @Test func testVariant_prunePassRoundTripsThroughTheStrictReader() throws {
        let plans = [PruningPlan(method: .sparsegpt, sparsity: 0.5, pattern: SparsityPattern(keep: 2, group: 4)),
                     PruningPlan(method: .magnitude, sparsity: 0.5, scope: .global, includeEmbedding: true),
                     PruningPlan(method: .wanda, sparsity: 0.25, structured: .neurons)]
        for plan in plans {
            let variant = Variant(base: .init(path: "m", weightsFile: "model.safetensors", sha256: String(repeating: "a", count: 64)),
                                  passes: [Variant.Pass(settings: .prune(plan), calibrationText: "train split", calibrationSamples: 8, calibrationSeed: 1),
                                           Variant.Pass(method: .rtn, plan: QuantizationPlan(defaultFormat: .q8_0))],
                                  plan: [.init(tensor: "h.0.attn.c_attn.weight", format: .q8_0)], weightsFile: "model.gguf",
                                  weightsFileBytes: 10, bitsPerWeight: 8.5, parameterCount: 100, whittleVersion: "t", command: "c")
            let read = try Variant.parse(Array(variant.json().utf8), source: "variant.json")
            #expect(read == variant)
            #expect(VariantCard.markdown(variant).contains("| pass 1 | prune, method \(plan.method.rawValue)"))
        }
        let bad = Variant(base: .init(path: "m", weightsFile: "w", sha256: String(repeating: "a", count: 64)),
                          passes: [Variant.Pass(settings: .prune(PruningPlan(method: .wanda, sparsity: 1.5)))],
                          plan: [.init(tensor: "x", format: .f32)], weightsFile: "w", weightsFileBytes: 1, bitsPerWeight: 1,
                          parameterCount: 1, whittleVersion: "t", command: "c")
        #expect(throws: WhittleError.self) { try Variant.parse(Array(bad.json().utf8), source: "variant.json") }
    }
}
