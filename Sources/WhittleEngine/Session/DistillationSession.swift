// One distillation pass as a job (the workbench's Compress screen): a new training run of the student
// against its teacher on its own thread, step by step, publishing the step and the loss terms (ce,
// kl), cancellable between steps; when it finishes, its student is published as a variant in
// RUN/student (`variant.json` with the distill pass), as `whittle distill --out RUN` does. A
// cancelled or failed pass removes the run directory it made (and the parent it made, if empty), so
// nothing is left on disk; a directory that already exists is refused before anything is written.

import Foundation

/// A distillation run and the publishing of its student, on its own thread.
public final class DistillationSession: VariantPassSession {
    /// What to train and where.
    public struct Request: Equatable, Sendable {
        /// The student's training config (teacher, shape, loss, steps).
        public var config: TrainingConfig
        /// The run directory (created; must not exist). The student variant goes to RUN/student.
        public var runDirectory: String
        public var whittleVersion: String
        /// The command that makes the same run, recorded in the run's and the variant's cards.
        public var command: String

        public init(config: TrainingConfig, runDirectory: String, whittleVersion: String, command: String) {
            self.config = config
            self.runDirectory = runDirectory
            self.whittleVersion = whittleVersion
            self.command = command
        }

        /// The student variant's directory.
        public var output: String { AtomicDirectory.normalized(runDirectory) + "/" + Variant.studentDirectoryName }
    }

    public let job: VariantPassJob
    public let output: String

    public init(_ request: Request) {
        output = request.output
        job = VariantPassJob(name: "whittle.distil", initial: VariantPassSnapshot()) { job in
            job.runPass(output: request.output, makingParent: false) {
                try Self.run(request, job: job)
            }
        }
    }

    static func run(_ request: Request, job: VariantPassJob) throws {
        let directory = AtomicDirectory.normalized(request.runDirectory)
        guard !FileIO.exists(directory) else {
            throw WhittleError.config("'\(directory)' already exists", hint: "choose another output directory for the distillation run")
        }
        let parent = AtomicDirectory.parent(of: directory)
        let madeParent = !FileIO.exists(parent)
        var run: TrainingRun?
        do {
            job.publish { $0.state = .running; $0.activity = "loading the teacher and the text" }
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            let started = try TrainingRun.start(config: request.config, directory: directory)
            run = started
            started.command = request.command
            try train(started, job: job)
            job.publish { $0.activity = "publishing \(request.output)" }
            try Variant.publishStudent(of: started, to: request.output, whittleVersion: request.whittleVersion, command: request.command)
            started.close()
        } catch {
            run?.close()
            if FileIO.exists(directory) { try? FileManager.default.removeItem(atPath: directory) }
            // Only the parent this pass made, and only while it is empty.
            if madeParent, (try? FileManager.default.contentsOfDirectory(atPath: parent))?.isEmpty == true {
                try? FileManager.default.removeItem(atPath: parent)
            }
            throw error
        }
    }

    /// Steps `run` to its end, publishing each step; throws `.cancelled` between steps once cancelled.
    static func train(_ run: TrainingRun, job: VariantPassJob) throws {
        let trainer = run.trainer
        let total = trainer.config.maxIterations
        let started = DispatchTime.now().uptimeNanoseconds
        while !trainer.isFinished {
            guard !job.isCancelled else { throw WhittleError(.cancelled, "distillation cancelled; nothing was written") }
            if trainer.step + 1 == total {
                job.publish { $0.activity = "step \(total)/\(total): the final checkpoint (whole validation split, model card)" }
            }
            let record = try run.step()
            // The time left at the measured pace so far (the final step's evaluation comes on top).
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let left = elapsed / Double(max(record.step, 1)) * Double(total - record.step)
            job.publish { snapshot in
                snapshot.state = .running
                snapshot.progress = JobProgress(completed: record.step, total: total, etaSeconds: left)
                snapshot.activity = describe(record, total: total) + (record.step < total ? ", \(ResourceBudget.formatSeconds(left)) left" : "")
            }
        }
        guard !job.isCancelled else { throw WhittleError(.cancelled, "distillation cancelled; nothing was written") }
    }

    /// "step 12/600  loss 2.3142 (ce 2.4101, kl 0.2103)" (the caller adds the time left).
    static func describe(_ record: StepRecord, total: Int) -> String {
        var text = "step \(record.step)/\(total)  loss " + String(format: "%.4f", record.loss)
        if let ce = record.crossEntropy, let kl = record.divergence {
            text += String(format: " (ce %.4f, kl %.4f)", ce, kl)
        }
        return text
    }
}
