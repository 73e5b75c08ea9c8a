// The values a TrainingSession exchanges with its host through its JobSession: commands in, a
// snapshot (latest wins) and events (each delivered once) out. Plain Sendable values, so the UI
// thread can hold them while the training thread carries on.

extension TrainingSession {
    /// Where the session's run comes from.
    public enum Origin: Sendable {
        /// A new run of `config` in `directory` (created; must not hold a run yet).
        case start(config: TrainingConfig, directory: String)
        /// The newest complete checkpoint of the run in `directory`, with `key=value` overrides.
        case resume(directory: String, overrides: [String])

        /// The run directory.
        public var directory: String {
            switch self {
            case .start(_, let directory), .resume(let directory, _): directory
            }
        }
    }

    /// A request to the training thread; applied at the next step boundary, in order.
    public enum Command: Equatable, Sendable {
        /// Train continuously (start, or resume after a pause).
        case run
        /// Stop stepping after the current step.
        case pause
        /// Train exactly this many steps, then pause.
        case step(Int)
        /// Set a config key from text as typed (`learning_rate`, `3e-4`); validated before it applies.
        case set(key: String, value: String)
        /// Publish a checkpoint now.
        case saveCheckpoint
        /// Save a checkpoint if steps are unsaved (when `saving`), then end the thread.
        case stop(saving: Bool)
        /// Copy the model's weights at the next step boundary; answered by `.modelCopied` (or
        /// `.modelCopyFailed` when there is no model), so a reader never sees a half-written step.
        case copyModel
        /// Prune the live model at the next step boundary and keep the mask (answered by `.compressed`).
        case pruneNow(PruneNowRequest)
        /// Round the fp32 master, evaluate it against itself, and train on (answered by `.compressed`).
        case quantizeNow(QuantizeNowRequest)
    }

    /// A private copy of the run's model as of a step boundary, safe to use on any thread while
    /// training carries on.
    public struct ModelCopy: Equatable, Sendable {
        public let model: GPTModel
        public let tokenizer: CharTokenizer
        /// Optimizer steps completed when the copy was taken.
        public let step: Int

        public init(model: GPTModel, tokenizer: CharTokenizer, step: Int) {
            self.model = model
            self.tokenizer = tokenizer
            self.step = step
        }

        public static func == (a: ModelCopy, b: ModelCopy) -> Bool {
            a.model === b.model && a.step == b.step && a.tokenizer == b.tokenizer
        }
    }

    /// What the session is doing: the generic job state. A training run uses every case but
    /// `cancelled` (a cancelled session stops without saving and publishes `stopped`); `finished`
    /// means it reached `max_iters` with its final checkpoint written.
    public typealias State = JobState

    /// Something that happened once, for the host to show.
    public enum Event: Equatable, Sendable {
        case settingApplied(SettingChange)
        /// A `set` was refused; `message` names the key and says what is allowed.
        case settingRejected(key: String, message: String)
        /// A checkpoint was published (`automatic` for interval and end-of-run checkpoints).
        case checkpointSaved(path: String, automatic: Bool)
        case failed(String)
        /// A command could not apply in the current state (e.g. `run` on a finished run).
        case notice(String)
        /// The answer to `.copyModel`.
        case modelCopied(ModelCopy)
        /// `.copyModel` could not be answered (the run failed to load); the message says why.
        case modelCopyFailed(String)
        /// A prune-now or quantize-now finished (also in the snapshot's `compressions` and log.jsonl).
        case compressed(CompressionEvent)
        /// A prune-now or quantize-now was refused or failed; the run carries on unchanged.
        case compressionFailed(String)
    }

    /// A setting changed during the run, at the boundary after `step` steps.
    public struct SettingChange: Equatable, Sendable, Codable {
        public var step: Int
        /// Training seconds elapsed when it applied (for charts by time).
        public var seconds: Double
        public var key: String
        /// Old and new values as config literals (`0.001`).
        public var old: String
        public var new: String
        /// What the change did beyond the value, e.g. whether an optimizer switch kept the state.
        public var note: String?

        public init(step: Int, seconds: Double, key: String, old: String, new: String, note: String? = nil) {
            self.step = step
            self.seconds = seconds
            self.key = key
            self.old = old
            self.new = new
            self.note = note
        }
    }

    /// Exact bytes by category, from the parameter layout and the workers' arenas, next to measured RSS.
    public struct MemoryLedger: Equatable, Sendable, Codable {
        /// parameters × 4 (fp32).
        public var weights: Int
        /// One gradient buffer per data-parallel worker.
        public var gradients: Int
        /// The optimizer's state, exact (`OptimizerKind.stateBytes(for:)`): 2 × parameters × 4 for
        /// AdamW, none for SGD, one buffer for momentum and Lion, rows + columns for Adafactor's matrices.
        public var optimizer: Int
        /// Activations kept for backward, summed over workers.
        public var activations: Int
        /// Backward scratch, summed over workers.
        public var workspace: Int
        public var residentBytes: Int
        public var peakResidentBytes: Int

        /// Sum of the computed categories (not RSS).
        public var total: Int { weights + gradients + optimizer + activations + workspace }

        public init(weights: Int, gradients: Int, optimizer: Int, activations: Int, workspace: Int,
                    residentBytes: Int = 0, peakResidentBytes: Int = 0) {
            self.weights = weights
            self.gradients = gradients
            self.optimizer = optimizer
            self.activations = activations
            self.workspace = workspace
            self.residentBytes = residentBytes
            self.peakResidentBytes = peakResidentBytes
        }
    }

    /// Everything the session publishes, as of the last step boundary.
    public struct Snapshot: JobSnapshot {
        public var state: State = .loading
        public var directory: String
        /// Every step of the run so far (a resumed run includes the checkpoint's history).
        public var history: [StepRecord] = []
        /// Completed optimizer steps.
        public var step = 0
        /// `max_iters`.
        public var totalSteps = 0
        /// The settings in use (nil while loading or after a failed load).
        public var config: TrainingConfig?
        public var parameterCount = 0
        /// The tokenizer's vocabulary size (0 while loading), for memory estimates of changed settings.
        public var vocabularySize = 0
        public var memory: MemoryLedger?
        public var tokensSeen = 0
        /// Wall-clock seconds spent training (steps, evaluations, checkpoints), not paused time.
        public var elapsedSeconds = 0.0
        /// Seconds to `max_iters` at the recent pace; nil before the first timed step or when done.
        public var etaSeconds: Double?
        /// Applied setting changes, oldest first.
        public var changes: [SettingChange] = []
        /// Prune-now and quantize-now events of this session, oldest first (chart markers).
        public var compressions: [CompressionEvent] = []
        /// What the training thread is busy with between steps ("pruning: wanda 50%..."), or nil.
        public var activity: String?
        /// Steps taken since the last checkpoint.
        public var unsavedSteps = 0
        public var lastCheckpoint: String?
        /// Increases with every publication, so a reader can tell whether anything changed.
        public var version = 0

        public init(directory: String) { self.directory = directory }

        /// Steps of `max_iters`, with the ETA.
        public var progress: JobProgress { JobProgress(completed: step, total: totalSteps, etaSeconds: etaSeconds) }

        /// The current value of every config key, in key-table order (empty while loading).
        public var settings: [(key: String, value: ConfigValue)] {
            guard let config else { return [] }
            return TrainingConfig.keys.map { ($0.name, $0.value(in: config)) }
        }
    }
}
