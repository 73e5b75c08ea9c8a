// The Experiments screen's model: a form naming the settings to vary (`optimizer=adamw,lion,sgd`),
// the run length and a target loss; the queue of runs it plans with `SweepPlan` (every combination
// validated before anything runs); and each run's progress, validation-loss curve and result row.
// The queue itself runs in the engine's ExperimentSession (child `whittle train` processes); its
// plan, run and status types are the engine's.

import WhittleEngine

/// The experiment form and the queue it started.
public struct ExperimentsState: Equatable, Sendable {
    /// Form fields in Tab order; `.runs` is the run table (letters are commands there, not text).
    public enum Field: Int, CaseIterable, Equatable, Sendable {
        case vary1, vary2, vary3, maxIterations, targetLoss, runs

        public var label: String {
            switch self {
            case .vary1, .vary2, .vary3: "vary"
            case .maxIterations: "max_iters"
            case .targetLoss: "target loss"
            case .runs: "runs"
            }
        }
    }

    public var vary = [TextField("optimizer=adamw,lion,sgd"), TextField("precision=fp32,bf16"), TextField()]
    public var maxIterations = TextField("100")
    public var targetLoss = TextField()
    public var focus: Field = .vary1
    /// Why the form cannot start (shown under it), or nil.
    public var error: String?
    /// The queue, in run order (empty before the first start).
    public var runs: [ExperimentRun] = []
    public var variedKeys: [String] = []
    /// The target loss the queue was started with.
    public var plannedTarget: Double?
    /// Runs are queued or going.
    public var isRunning = false
    /// Where the runs and the exported tables go (set when the engine has created it).
    public var directory: String?
    /// The highlighted row of the run table.
    public var selected = 0

    public init() {}

    /// The text field for `field` (`.runs` has none).
    public subscript(field: Field) -> TextField {
        get {
            switch field {
            case .vary1: vary[0]
            case .vary2: vary[1]
            case .vary3: vary[2]
            case .maxIterations: maxIterations
            case .targetLoss: targetLoss
            case .runs: TextField()
            }
        }
        set {
            switch field {
            case .vary1: vary[0] = newValue
            case .vary2: vary[1] = newValue
            case .vary3: vary[2] = newValue
            case .maxIterations: maxIterations = newValue
            case .targetLoss: targetLoss = newValue
            case .runs: break
            }
        }
    }

    /// Runs that ended (finished or failed).
    public var doneCount: Int { runs.filter(\.status.isDone).count }

    /// The plan for the form's values over `base`, or the message saying what is wrong.
    public func plan(base: TrainingConfig) -> Result<ExperimentPlan, FormError> {
        let variations = vary.map { $0.text.trimmingWhitespace() }.filter { !$0.isEmpty }
        guard !variations.isEmpty else {
            return .failure(FormError(message: "name at least one setting to vary, e.g. optimizer=adamw,lion"))
        }
        // max_iters is read by the engine's key table and range-checked with every run by SweepPlan.
        let iterations: Int
        do {
            guard case .int(let value) = try TrainingConfig.key(named: "max_iters")?
                .parse(maxIterations.text, source: "the experiments form") else { throw WhittleError.config("max_iters") }
            iterations = value
        } catch {
            return .failure(FormError(message: (error as? WhittleError)?.message ?? "\(error)"))
        }
        let targetText = targetLoss.text.trimmingWhitespace()
        let target = Double(targetText)
        guard targetText.isEmpty || (target.map { $0.isFinite && $0 > 0 } ?? false) else {
            return .failure(FormError(message: "target loss must be a number > 0 (or empty)"))
        }
        let varied = Set(variations.compactMap { $0.split(separator: "=").first.map { String($0).trimmingWhitespace() } })
        // Short runs still evaluate and warm up within their length; only keys the form does not vary.
        let fixed = [
            "max_iters=\(iterations)", "eval_interval=\(max(iterations / 10, 1))",
            "warmup_iters=\(min(base.warmupIterations, iterations / 10))", "checkpoint_interval=0",
        ].filter { !varied.contains(String($0.split(separator: "=")[0])) }
        do {
            var start = base
            start.decayIterations = nil
            let sweep = try SweepPlan(base: start, variations: variations, fixed: fixed)
            return .success(ExperimentPlan(sweep: sweep, base: start, targetLoss: target))
        } catch {
            return .failure(FormError(message: (error as? WhittleError)?.message ?? "\(error)"))
        }
    }
}
