// A distillation pass as a job (the Compress screen's distil pass): the plan's prediction is the
// published student to the byte and the parameter, the variant records the distill pass as `whittle
// distill` does; a cancelled pass, a failed one and one refused for an existing directory leave
// nothing of theirs on disk.

import Foundation
import Testing
import WhittleEngine
import WhittleTestSupport

@Suite(.serialized) struct DistillationSessionTests {
    static let teacher = Repository.path("sample-models/shakespeare-char-tiny")
    static let timeout = 300.0

    /// The tiny sample model's prediction for a student of `settings` (its dataset found from the repository).
    static func prediction(_ settings: [String]) throws -> DistillationPrediction {
        let inspection = try ModelInspection.read(teacher)
        var base = try #require(inspection.trainingConfig)
        base.datasetPath = Repository.path("datasets/tinyshakespeare.txt")
        return try DistillationPlan(teacher: teacher, settings: settings)
            .predict(base: base, teacherModel: inspection.config, teacherIsFloat: inspection.isFloat)
    }

    static func session(_ p: DistillationPrediction, run: String) -> DistillationSession {
        DistillationSession(.init(config: p.config, runDirectory: run, whittleVersion: "test", command: "whittle distill (test)"))
    }

    @Test func testDistillationSession_publishesTheStudentThePredictionDescribes() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-distil")
        let p = try Self.prediction(["n_layer=1", "student_init=teacher_layers", "max_iters=3", "distill_alpha=0.7", "distill_temperature=3"])
        let session = Self.session(p, run: scratch.path("runs/student"))
        #expect(session.waitUntilEnded(timeoutSeconds: Self.timeout))
        let output = scratch.path("runs/student/student")
        #expect(session.takeEvents() == [.finished(directory: output)])
        let size = try FileManager.default.attributesOfItem(atPath: output + "/" + ModelDirectory.weightsName)[.size] as? Int
        #expect(size == p.fileBytes, "the student's file has the predicted size")
        let (variant, model) = try Variant.open(output)
        #expect(variant.parameterCount == p.parameterCount && model.parameterCount == p.parameterCount)
        #expect(variant.weightsFileBytes == p.fileBytes && variant.bitsPerWeight == p.bitsPerWeight)
        #expect(model.config == p.model)
        let pass = try #require(variant.passes.first?.distillation)
        #expect(pass.alpha == 0.7 && pass.temperature == 3 && pass.steps == 3 && pass.tokens == p.tokens)
        #expect(pass.teacher.path == Self.teacher && pass.studentInit == .teacherLayers)
        #expect(variant.command == "whittle distill (test)")
    }

    @Test func testDistillationSession_cancelledLeavesNothing() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-distil")
        let p = try Self.prediction(["max_iters=2000"])
        let session = Self.session(p, run: scratch.path("runs/cancelled"))
        try waitUntil("a step", timeout: Self.timeout) { session.snapshot().progress.completed >= 1 || session.hasEnded }
        #expect(session.snapshot().activity?.hasPrefix("step ") == true)
        session.cancel()
        #expect(session.waitUntilEnded(timeoutSeconds: Self.timeout))
        #expect(session.takeEvents() == [.cancelled])
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "no run, no runs/ it made")
    }

    @Test func testDistillationSession_aFailedPassLeavesNothing() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-distil")
        var p = try Self.prediction(["max_iters=2"])
        p.config.teacher = scratch.path("no-such-teacher")
        let session = Self.session(p, run: scratch.path("runs/failed"))
        #expect(session.waitUntilEnded(timeoutSeconds: Self.timeout))
        guard case .failed(let message)? = session.takeEvents().first else {
            Issue.record("the pass did not fail")
            return
        }
        #expect(message.contains("no teacher at"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }

    @Test func testDistillationSession_anExistingDirectoryIsRefusedAndKept() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-distil")
        try FileManager.default.createDirectory(atPath: scratch.path("runs/taken"), withIntermediateDirectories: true)
        try "keep".write(toFile: scratch.path("runs/taken/notes.txt"), atomically: true, encoding: .utf8)
        let session = Self.session(try Self.prediction(["max_iters=2"]), run: scratch.path("runs/taken"))
        #expect(session.waitUntilEnded(timeoutSeconds: Self.timeout))
        guard case .failed(let message)? = session.takeEvents().first else {
            Issue.record("the pass did not fail")
            return
        }
        #expect(message.contains("already exists"))
        #expect(try String(contentsOfFile: scratch.path("runs/taken/notes.txt"), encoding: .utf8) == "keep")
    }
}
