// Knowledge distillation: the loss head against a direct computation in Double (both KL directions,
// temperatures ≠ 1), the Double reference against finite differences, alpha = 0 reproducing plain
// training bit for bit, exact resume of a distillation run, teacher_layers initialisation, and the
// refusals (a changed teacher on resume, another vocabulary, a missing teacher, settings out of range).

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite(.serialized) struct DistillationTests {
    /// The bound for the Float head against Double.
    static let headTolerance = 1e-5
    /// Central differences of a Double loss at step `step` agree with its closed-form gradient this well.
    static let finiteDifferenceTolerance = 1e-6
    static let step = 1e-5

    /// Random logits [N·V] of scale `scale`.
    static func logits(_ count: Int, scale: Float, generator: inout RandomGenerator) -> [Float] {
        (0..<count).map { _ in generator.nextNormal() * scale }
    }

    /// max |a − b| over max |b|: the gradient's error relative to its largest element.
    static func relativeToLargest(_ a: [Double], _ b: [Double]) -> Double {
        let largest = b.map(abs).max() ?? 0
        return zip(a, b).map { abs($0 - $1) }.max()! / max(largest, 1e-30)
    }

    @Test(arguments: [(DistillationDirection.forwardKL, Float(1)), (.forwardKL, 2.5), (.reverseKL, 1), (.reverseKL, 0.7)])
    func testDistillationHead_lossAndGradientMatchDouble(direction: DistillationDirection, temperature: Float) {
        let N = 6, V = 11
        var generator = RandomGenerator(seed: 12)
        let student = Self.logits(N * V, scale: 2, generator: &generator)
        let teacher = Self.logits(N * V, scale: 2, generator: &generator)
        let targets = (0..<N).map { Int32(($0 * 5 + 3) % V) }
        let weights = DistillationWeights(alpha: 0.7, temperature: temperature, direction: direction)
        let logits = FloatBuffer(student), probs = FloatBuffer(count: N * V), losses = FloatBuffer(count: N)
        let teacherBuffer = FloatBuffer(teacher)
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 2 * V)
        defer { scratch.deallocate() }
        let terms = targets.withUnsafeBufferPointer { t in
            CrossEntropy.forward(losses: losses.pointer, probs: probs.pointer, logits: logits.pointer, targets: t.baseAddress!, N: N, V: V)
            return Distillation.lossAndGradient(logits: logits.pointer, probs: probs.pointer, losses: losses.pointer,
                                                teacher: teacherBuffer.pointer, targets: t.baseAddress!, N: N, V: V,
                                                weights: weights, scale: 1, scratch: scratch)
        }
        let z = student.map(Double.init), u = teacher.map(Double.init), ids = targets.map(Int.init)
        let loss = DistillationReference.loss(student: z, teacher: u, targets: ids, V: V, weights: weights)
        let gradient = DistillationReference.gradient(student: z, teacher: u, targets: ids, V: V, weights: weights)
        let headLoss = terms.objective(weights) / Double(N)
        #expect(abs(headLoss - loss) / abs(loss) < Self.headTolerance, "loss \(headLoss) vs \(loss)")
        #expect(Self.relativeToLargest(logits.array.map(Double.init), gradient) < Self.headTolerance)
        #expect(terms.divergence > 0)
    }

    @Test(arguments: [(DistillationDirection.forwardKL, Float(3)), (.reverseKL, 2)])
    func testDistillationReference_gradientMatchesFiniteDifferences(direction: DistillationDirection, temperature: Float) {
        let N = 3, V = 7
        var generator = RandomGenerator(seed: 5)
        let z = Self.logits(N * V, scale: 1.5, generator: &generator).map(Double.init)
        let u = Self.logits(N * V, scale: 1.5, generator: &generator).map(Double.init)
        let targets = [1, 4, 6]
        let weights = DistillationWeights(alpha: 0.4, temperature: temperature, direction: direction)
        let gradient = DistillationReference.gradient(student: z, teacher: u, targets: targets, V: V, weights: weights)
        var numeric = [Double](repeating: 0, count: z.count)
        for i in 0..<z.count {
            var plus = z, minus = z
            plus[i] += Self.step
            minus[i] -= Self.step
            numeric[i] = (DistillationReference.loss(student: plus, teacher: u, targets: targets, V: V, weights: weights)
                - DistillationReference.loss(student: minus, teacher: u, targets: targets, V: V, weights: weights)) / (2 * Self.step)
        }
        #expect(Self.relativeToLargest(gradient, numeric) < Self.finiteDifferenceTolerance)
    }

    @Test func testCosineTerm_matchesDoubleAndFiniteDifferences() {
        let N = 4, C = 8
        var generator = RandomGenerator(seed: 9)
        let s = Self.logits(N * C, scale: 1, generator: &generator), t = Self.logits(N * C, scale: 1, generator: &generator)
        let gradient = FloatBuffer(count: N * C), student = FloatBuffer(s), teacher = FloatBuffer(t)
        let sum = Distillation.cosineLossAndGradient(gradient: gradient.pointer, student: student.pointer,
                                                     teacher: teacher.pointer, N: N, C: C, weight: 1, scale: 1)
        let sd = s.map(Double.init), td = t.map(Double.init)
        let loss = DistillationReference.cosineLoss(student: sd, teacher: td, C: C)
        #expect(abs(sum / Double(N) - loss) / loss < Self.headTolerance)
        var numeric = [Double](repeating: 0, count: sd.count)
        for i in 0..<sd.count {
            var plus = sd, minus = sd
            plus[i] += Self.step
            minus[i] -= Self.step
            numeric[i] = (DistillationReference.cosineLoss(student: plus, teacher: td, C: C)
                - DistillationReference.cosineLoss(student: minus, teacher: td, C: C)) / (2 * Self.step)
        }
        #expect(Self.relativeToLargest(gradient.array.map(Double.init), numeric) < Self.headTolerance)
    }

    // MARK: - In the training loop

    /// A finished tiny teacher run (2 blocks, width 16) in `directory/teacher`, and its config.
    static func teacherRun(in directory: TemporaryDirectory, layers: Int = 2) throws -> (path: String, config: TrainingConfig) {
        var config = try TinyTraining.config(in: directory.path)
        config.layerCount = layers
        let run = try TrainingRun.start(config: config, directory: directory.path("teacher"))
        while !run.trainer.isFinished { try run.step() }
        run.close()
        return (directory.path("teacher"), config)
    }

    /// A one-block student of the teacher's width distilling from `teacher`.
    static func student(_ config: TrainingConfig, teacher: String) -> TrainingConfig {
        var student = config
        student.layerCount = 1
        student.teacher = teacher
        student.distillAlpha = 0.6
        student.distillTemperature = 2
        return student
    }

    @Test func testDistillation_alphaZeroReproducesPlainTrainingBitForBit() throws {
        let directory = TemporaryDirectory()
        let (teacher, config) = try Self.teacherRun(in: directory)
        var plain = Self.student(config, teacher: teacher)
        plain.teacher = "none"
        var distilled = Self.student(config, teacher: teacher)
        distilled.distillAlpha = 0
        distilled.workers = 2
        plain.workers = 2
        let a = try TrainingRun.start(config: plain, directory: directory.path("plain"))
        let b = try TrainingRun.start(config: distilled, directory: directory.path("alpha0"))
        for _ in 0..<6 {
            let x = try a.step(), y = try b.step()
            #expect(x.loss == y.loss)
            #expect(x.gradientNorm == y.gradientNorm)
            #expect(abs(y.crossEntropy! - y.loss) < 1e-6 && y.divergence! > 0)
        }
        #expect(a.trainer.model.parameters.array == b.trainer.model.parameters.array)
    }

    @Test func testDistillation_resumedRunEqualsAnUninterruptedOne() throws {
        let directory = TemporaryDirectory()
        let (teacher, config) = try Self.teacherRun(in: directory)
        var student = Self.student(config, teacher: teacher)
        student.distillLoss = .reverseKL
        student.distillHiddenWeight = 0.5
        student.studentInit = .teacherLayers
        student.workers = 2
        let straight = try TrainingRun.start(config: student, directory: directory.path("straight"))
        let reference = try (0..<8).map { _ in try straight.step() }
        let first = try TrainingRun.start(config: student, directory: directory.path("split"))
        var split = try (0..<4).map { _ in try first.step() }   // ckpt-000004
        first.close()
        let second = try TrainingRun.resume(directory: directory.path("split"))
        split += try (0..<4).map { _ in try second.step() }
        #expect(split.map(\.loss) == reference.map(\.loss))
        #expect(split.map(\.divergence) == reference.map(\.divergence))
        #expect(split.map(\.hiddenCosine) == reference.map(\.hiddenCosine))
        #expect(reference.allSatisfy { $0.hiddenCosine != nil && $0.crossEntropy != nil })
        #expect(second.trainer.model.parameters.array == straight.trainer.model.parameters.array)
        let log = try String(contentsOfFile: directory.path("split/" + TrainingRun.logName), encoding: .utf8)
        #expect(log.contains("\"kl\"") && log.contains("\"ce\"") && log.contains("\"hidden_cos\""))
        let state = try String(contentsOfFile: directory.path("split/ckpt-000008/state.json"), encoding: .utf8)
        #expect(state.contains("\"sha256\""))
    }

    @Test func testDistillation_aChangedTeacherIsRefusedOnResume() throws {
        let directory = TemporaryDirectory()
        let (teacher, config) = try Self.teacherRun(in: directory)
        let first = try TrainingRun.start(config: Self.student(config, teacher: teacher), directory: directory.path("student"))
        for _ in 0..<4 { try first.step() }
        first.close()
        // The teacher trains on: its newest checkpoint, the weights the path now means, changes.
        let more = try TrainingRun.resume(directory: teacher, overrides: ["max_iters=12"])
        while !more.trainer.isFinished { try more.step() }
        more.close()
        let error = #expect(throws: WhittleError.self) { _ = try TrainingRun.resume(directory: directory.path("student")) }
        #expect(error?.kind == .invalidData)
        #expect(error?.message.contains("teacher") == true && error?.message.contains("changed") == true)
    }

    @Test func testDistillation_liveEditsChangeTheLossButNotTheTeacher() throws {
        let directory = TemporaryDirectory()
        let (teacher, config) = try Self.teacherRun(in: directory)
        let run = try TrainingRun.start(config: Self.student(config, teacher: teacher), directory: directory.path("student"))
        let before = try run.step()
        try run.trainer.update { $0.distillAlpha = 1; $0.distillTemperature = 1; $0.workers = 2 }
        let after = try run.step()
        // alpha = 1, T = 1: the objective is the KL alone (the teacher side was rebuilt for two workers).
        #expect(abs(after.loss - after.divergence!) < 1e-5 && before.crossEntropy != nil)
        #expect(throws: WhittleError.self) { try run.trainer.update { $0.teacher = "none" } }
        #expect(run.trainer.config.teacher == teacher)
        try run.trainer.update { $0.distillHiddenWeight = 1 }   // the widths match: the cosine term switches on
        #expect(try run.step().hiddenCosine != nil)
    }

    @Test func testDistillation_aQuantizedTeacherRunsOnItsOwnKernels() throws {
        let directory = TemporaryDirectory()
        var config = try TinyTraining.config(in: directory.path)
        config.embeddingWidth = 32   // whole q8_0 blocks
        let run = try TrainingRun.start(config: config, directory: directory.path("teacher"))
        while !run.trainer.isFinished { try run.step() }
        run.close()
        let plan = QuantizationPlan(defaultFormat: .q8_0, embeddingFormat: .q8_0, rules: [])
        _ = try Quantizer.run(Quantizer.Request(basePath: directory.path("teacher"), plan: plan, output: directory.path("q8"),
                                                whittleVersion: "test", command: "whittle quantize (test)"))
        var student = Self.student(config, teacher: directory.path("q8"))
        student.embeddingWidth = 16
        let distilled = try TrainingRun.start(config: student, directory: directory.path("student"))
        #expect(distilled.trainer.teacher?.model.floatModel == nil)
        #expect(distilled.trainer.teacher?.reference.weightsFile == LoadedModel.ggufName)
        for _ in 0..<3 {
            let record = try distilled.step()
            #expect(record.loss.isFinite && record.divergence! > 0)
        }
    }

    @Test func testTeacherLayers_copyEveryKthBlockAndTheEmbeddings() throws {
        let directory = TemporaryDirectory()
        let (teacher, config) = try Self.teacherRun(in: directory, layers: 4)
        var student = Self.student(config, teacher: teacher)
        student.layerCount = 2
        student.studentInit = .teacherLayers
        let run = try TrainingRun.start(config: student, directory: directory.path("student"))
        let source = try ModelDirectory.load(teacher).model
        #expect(Teacher.chosenLayers(teacher: 4, student: 2) == [0, 2])
        #expect(Teacher.chosenLayers(teacher: 6, student: 3) == [0, 2, 4])
        func values(_ model: GPTModel, _ name: String) -> [Float] {
            let t = model.layout.tensors.first { $0.name == name }!
            return Array(UnsafeBufferPointer(start: model.parameters.pointer + t.offset, count: t.count))
        }
        let s = run.trainer.model
        #expect(values(s, "h.1.attn.c_attn.weight") == values(source, "h.2.attn.c_attn.weight"))
        #expect(values(s, "h.0.mlp.c_proj.bias") == values(source, "h.0.mlp.c_proj.bias"))
        #expect(values(s, "wte.weight") == values(source, "wte.weight"))
        #expect(values(s, "ln_f.weight") == values(source, "ln_f.weight"))

        var narrow = student
        narrow.embeddingWidth = 8
        let error = #expect(throws: WhittleError.self) { _ = try TrainingRun.start(config: narrow, directory: directory.path("narrow")) }
        #expect(error?.message.contains("n_embd") == true)
        #expect(!FileManager.default.fileExists(atPath: directory.path("narrow")))
    }

    @Test func testDistillation_refusesAnotherVocabularyAndAMissingTeacher() throws {
        let directory = TemporaryDirectory()
        let (teacher, config) = try Self.teacherRun(in: directory)
        let other = directory.path("other.txt")
        try String(repeating: "abba cab. ", count: 200).write(toFile: other, atomically: true, encoding: .utf8)
        var student = Self.student(config, teacher: teacher)
        student.datasetPath = other
        let error = #expect(throws: WhittleError.self) { _ = try TrainingRun.start(config: student, directory: directory.path("a")) }
        #expect(error?.kind == .invalidData && error?.message.contains("vocabulary") == true)
        #expect(!FileManager.default.fileExists(atPath: directory.path("a")))

        let missing = Self.student(config, teacher: directory.path("nowhere"))
        let noTeacher = #expect(throws: WhittleError.self) { _ = try TrainingRun.start(config: missing, directory: directory.path("b")) }
        #expect(noTeacher?.kind == .invalidFile && noTeacher?.message.contains("no teacher") == true)
        #expect(!FileManager.default.fileExists(atPath: directory.path("b")))
    }

    @Test func testDistillationSettings_outOfRangeAreRefused() throws {
        let config = Self.student(TrainingConfig(), teacher: "somewhere")
        for (key, value) in [("distill_alpha", "1.5"), ("distill_alpha", "-0.1"), ("distill_temperature", "0"),
                             ("distill_temperature", "-1"), ("distill_hidden_weight", "-1"), ("distill_loss", "kl")] {
            #expect(throws: WhittleError.self, "\(key)=\(value)") { _ = try config.setting(key, to: value, source: "--set") }
        }
        var plain = TrainingConfig()
        plain.studentInit = .teacherLayers
        #expect(throws: WhittleError.self) { try plain.validate() }
        #expect(try config.setting("distill_loss", to: "reverse_kl", source: "--set").distillLoss == .reverseKL)
        #expect(try config.setting("distill_alpha", to: "1", source: "--set").distillAlpha == 1)
    }
}

@Suite(.serialized) struct DistilledStudentVariantTests {
    @Test func testStudentVariant_lineageRoundTripsAndOpensAgainstItsWeights() throws {
        let directory = TemporaryDirectory()
        let (teacher, config) = try DistillationTests.teacherRun(in: directory)
        let run = try TrainingRun.start(config: DistillationTests.student(config, teacher: teacher), directory: directory.path("student"))
        while !run.trainer.isFinished { try run.step() }
        let published = try Variant.publishStudent(of: run, to: directory.path("student/student"), whittleVersion: "test", command: "whittle distill")
        let (variant, model) = try Variant.open(directory.path("student/student"))
        #expect(variant == published)
        let pass = try #require(variant.passes.first?.distillation)
        #expect(variant.passes.first?.kind == .distill)
        #expect(pass.teacher == run.trainer.teacher!.reference && variant.base.sha256 == pass.teacher.sha256)
        #expect(pass.alpha == 0.6 && pass.temperature == 2 && pass.steps == 8 && pass.tokens == 8 * 4 * 16)
        #expect(model.floatModel!.parameters.array == run.trainer.model.parameters.array)
        #expect(try Variant.parse(Array(variant.json().utf8), source: "variant.json") == variant)
    }
}
