// The view model of a training run as the charts and panels draw it: plain values SessionMetrics
// converts from the engine's TrainingSession snapshot (latest wins), or DemoRun synthesises. The run
// state is not here: AppState.runState carries the engine's own JobState.

/// One metric sample: the optimizer step, wall-clock seconds since the run started, and the value.
public struct MetricPoint: Equatable, Sendable {
    public var step: Int
    public var seconds: Double
    public var value: Double
    public init(step: Int, seconds: Double, value: Double) {
        self.step = step
        self.seconds = seconds
        self.value = value
    }
}

/// One line of the memory ledger: exact bytes of a category (weights, gradients, ...).
public struct MemoryCategory: Equatable, Sendable {
    public var name: String
    public var bytes: Int
    public init(name: String, bytes: Int) {
        self.name = name
        self.bytes = bytes
    }
}

/// Data-parallel memory per worker and what ZeRO stages 1–3 would leave each worker holding.
public struct WorkerMemory: Equatable, Sendable {
    public var workers: Int
    /// Activations + workspace + the gradient buffer of one worker.
    public var perWorkerBytes: Int
    /// One worker's total bytes in ZeRO stages 0...3 (index = stage; 0 = no sharding).
    public var stageBytes: [Int]
    public init(workers: Int, perWorkerBytes: Int, stageBytes: [Int]) {
        self.workers = workers
        self.perWorkerBytes = perWorkerBytes
        self.stageBytes = stageBytes
    }
}

/// A setting changed during the run; charts draw a marker at its step/time.
public struct SettingChange: Equatable, Sendable {
    public var step: Int
    public var seconds: Double
    /// E.g. "learning_rate 3.0e-4 → 1.0e-4".
    public var summary: String
    public init(step: Int, seconds: Double, summary: String) {
        self.step = step
        self.seconds = seconds
        self.summary = summary
    }
}

/// A prune-now or quantize-now during the run; the loss chart marks it with `label`.
public struct CompressionMarker: Equatable, Sendable {
    public var step: Int
    public var seconds: Double
    /// E.g. "prune 50%", "q4_0 +0.041".
    public var label: String
    public init(step: Int, seconds: Double, label: String) {
        self.step = step
        self.seconds = seconds
        self.label = label
    }
}

/// Everything the Train screen shows about the current run.
public struct TrainingMetricsSnapshot: Equatable, Sendable {
    public var runName = ""
    public var step = 0
    public var totalSteps = 0
    public var tokensSeen = 0
    public var elapsedSeconds = 0.0
    public var trainLoss: [MetricPoint] = []
    public var validationLoss: [MetricPoint] = []
    public var learningRate: [MetricPoint] = []
    public var gradientNorm: [MetricPoint] = []
    public var tokensPerSecond: [MetricPoint] = []
    /// bf16/fp16 runs: gradient values flushed to zero by rounding, per step (empty in fp32).
    public var flushedGradients: [MetricPoint] = []
    /// fp16 runs with loss scaling: the loss scale per step, and how many steps it skipped.
    public var lossScale: [MetricPoint] = []
    public var skippedSteps = 0
    /// The memory ledger, in display order.
    public var memory: [MemoryCategory] = []
    /// Per-worker bytes and ZeRO shards (nil before a ledger exists).
    public var workerMemory: WorkerMemory?
    /// Measured resident set size now and at its peak, in bytes.
    public var residentBytes = 0
    public var peakResidentBytes = 0
    /// The values the engine is currently using (nil before a run exists).
    public var hyperparameters: HyperparameterValues?
    /// Settings changed during the run, oldest first.
    public var changes: [SettingChange] = []
    /// Prune-now / quantize-now events, oldest first: labelled markers on the loss chart.
    public var compressions: [CompressionMarker] = []
    /// The engine's own estimate of seconds to finish (recent pace); when `hasEngineETA`, the header
    /// shows it (nil shows "--") instead of the average-pace estimate below.
    public var engineETASeconds: Double?
    public var hasEngineETA = false

    public init() {}

    /// A snapshot with nothing in it (before any run).
    public static let empty = TrainingMetricsSnapshot()

    /// Estimated seconds to finish: the engine's estimate when it gives one, else from the average
    /// pace so far; nil when unknown.
    public var etaSeconds: Double? {
        if hasEngineETA { return engineETASeconds }
        guard step > 0, totalSteps > step, elapsedSeconds > 0 else { return nil }
        return elapsedSeconds / Double(step) * Double(totalSteps - step)
    }
}
