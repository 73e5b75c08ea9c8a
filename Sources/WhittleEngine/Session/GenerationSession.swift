// Sampling from a copy of a run's weights as a job: a `JobSession` whose body encodes the prompt and
// generates on its own thread, streaming text as events, while training goes on with its own
// weights. The workbench's Generate screen starts one per request.

import Foundation

/// One generation from a `TrainingSession.ModelCopy`, on its own thread.
public final class GenerationSession: Sendable {
    public enum Event: Equatable, Sendable {
        /// More generated text.
        case text(String)
        case finished(GenerationStats)
        /// The prompt could not be encoded or generation failed; the message says why.
        case failed(String)
    }

    public struct Snapshot: JobSnapshot {
        public var state = JobState.running
        public var generated = 0
        public var count: Int
        public var version = 0
        public var progress: JobProgress { JobProgress(completed: generated, total: count) }
    }

    /// Generation takes no commands once started (only `cancel`).
    public enum Command: Sendable {}

    typealias Job = JobSession<Command, Snapshot, Event>
    let job: Job
    /// The step of the weights generated from.
    public let step: Int

    /// Starts generating `count` tokens after `prompt` from `copy`.
    public init(copy: TrainingSession.ModelCopy, prompt: String, count: Int, settings: SamplingSettings) {
        step = copy.step
        job = Job(name: "whittle.generate", initial: Snapshot(count: count)) { job in
            do {
                let tokens = try copy.tokenizer.encode(prompt)
                let (_, stats) = try Generator.generate(model: copy.model, prompt: tokens, count: count,
                                                        settings: settings) { token in
                    job.report(.text(copy.tokenizer.decode([token])))
                    job.publish { $0.generated += 1 }
                }
                job.publish { $0.state = .finished }
                job.report(.finished(stats))
            } catch {
                let message = TrainingSession.describe(error)
                job.publish { $0.state = .failed(message) }
                job.report(.failed(message))
            }
        }
    }

    public func snapshot() -> Snapshot { job.snapshot() }
    public func takeEvents() -> [Event] { job.takeEvents() }
    public var hasEnded: Bool { job.hasEnded }
}
