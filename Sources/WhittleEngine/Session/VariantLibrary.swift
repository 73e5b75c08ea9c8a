// The workbench's Compare and Compress work that reads files or evaluates, as one job: listing
// models, runs and variants, inspecting a model (its shape and tokenizer, for predicting what a
// plan makes of it), checking which variant directories still exist, a variant's per-tensor weight
// errors against its base, comparing models exactly as
// `whittle compare` does (`ComparisonReport.measure`), exporting the report as `whittle compare`
// prints it, and generating from several models side by side (same prompt and seed). Commands run
// one after another on the job's thread; each is answered by events, so a host's UI thread never
// touches the disk or the models.

import Foundation

/// A directory the workbench can compare or compress.
public struct LibraryEntry: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// A model directory (config.json).
        case model
        /// A run directory; its newest complete checkpoint's step.
        case run(step: Int)
        /// A variant directory (variant.json).
        case variant
    }

    public var path: String
    public var kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }
}

/// What the Compress screen needs to know about a model before planning a pass.
public struct ModelInspection: Equatable, Sendable {
    public var path: String
    public var config: ModelConfig
    public var tokenizer: CharTokenizer
    /// Its weights file and that file's size.
    public var weightsFile: String
    public var weightsFileBytes: Int
    /// Bytes of the weights as held in memory, and bits per parameter.
    public var weightBytes: Int
    public var bitsPerWeight: Double
    public var parameterCount: Int
    /// "f32", "q4_0+q8_0", ...
    public var formatSummary: String
    /// fp32 weights (a model a pass can start from); false for variants and quantized files.
    public var isFloat: Bool
    /// The training config stored beside the weights (`config.toml` of a model, run or variant
    /// directory: the text it learned and how), which a distilled student starts from; nil without one.
    public var trainingConfig: TrainingConfig?
    /// Why the `config.toml` beside the weights could not be read (nil: read, or there is none).
    public var trainingConfigError: String?

    public init(_ model: LoadedModel, path: String) {
        self.path = path
        config = model.config
        tokenizer = model.tokenizer
        weightsFile = model.weightsFile
        weightsFileBytes = model.weightsFileBytes
        weightBytes = model.weightBytes
        bitsPerWeight = model.bitsPerWeight
        parameterCount = model.parameterCount
        formatSummary = model.formatSummary
        isFloat = model.floatModel != nil
    }

    /// Loads the model at `path` and the training config beside it (unreadable: nil).
    public static func read(_ path: String) throws -> ModelInspection {
        var inspection = ModelInspection(try LoadedModel.load(path), path: path)
        let configPath = path + "/" + Checkpoint.configName
        if FileIO.exists(configPath) {
            do {
                inspection.trainingConfig = try TrainingConfig.load(path: configPath)
            } catch {
                inspection.trainingConfigError = (error as? WhittleError)?.message ?? "\(error)"
            }
        }
        return inspection
    }
}

/// The file and evaluation work of the Compare and Compress screens, on its own thread.
public final class VariantLibrary: Sendable {
    public enum Command: Sendable {
        /// Model, run and variant directories under `roots`.
        case list(roots: [String])
        case inspect(path: String)
        /// Which of `paths` no longer exist (answered by `.missing`).
        case check(paths: [String])
        case compare(ComparisonRequest)
        /// Writes compare.md, compare.csv and compare.json into `directory` (created if needed).
        case export(ComparisonReport, directory: String)
        /// The same prompt and settings through every model, one after another.
        case generate(models: [String], prompt: String, count: Int, settings: SamplingSettings)
        /// Each quantizable tensor's weight error of `variant` against `base`.
        case tensorErrors(base: String, variant: String)
        case stop
    }

    public enum Event: Sendable {
        case listed([LibraryEntry])
        case inspected(path: String, Result<ModelInspection, WhittleError>)
        case missing([String])
        case compared(ComparisonRequest, Result<ComparisonReport, WhittleError>)
        case exported(path: String)
        case exportFailed(String)
        /// More text from model `index` of a side-by-side generation.
        case generated(index: Int, text: String)
        case generationFinished(index: Int, GenerationStats)
        case generationFailed(index: Int, String)
        case tensorErrors(variant: String, Result<[TensorError], WhittleError>)
    }

    public struct Snapshot: JobSnapshot {
        public var state = JobState.idle
        public var version = 0
        /// What the thread is doing ("scoring windows 12/40"), nil when waiting.
        public var activity: String?
        public var progress = JobProgress()
    }

    typealias Job = JobSession<Command, Snapshot, Event>
    let job: Job

    public init() {
        job = Job(name: "whittle.variants", initial: Snapshot()) { job in VariantLibrary.main(job) }
    }

    public func send(_ command: Command) { job.send(command) }
    public func snapshot() -> Snapshot { job.snapshot() }
    public func takeEvents() -> [Event] { job.takeEvents() }

    /// Ends the thread once the current command is done; false on timeout.
    @discardableResult
    public func stop(timeoutSeconds: Double = 5) -> Bool {
        job.send(.stop)
        return job.waitUntilEnded(timeoutSeconds: timeoutSeconds)
    }

    private static func main(_ job: Job) {
        while !job.isCancelled {
            for command in job.takeCommands(waitingSeconds: 1) {
                if case .stop = command {
                    job.publish { $0.state = .stopped }
                    return
                }
                job.publish { $0.state = .running }
                run(command, job)
                job.publish {
                    $0.state = .idle
                    $0.activity = nil
                    $0.progress = JobProgress()
                }
            }
        }
    }

    private static func run(_ command: Command, _ job: Job) {
        switch command {
        case .stop: break
        case .list(let roots): job.report(.listed(list(roots)))
        case .inspect(let path):
            job.publish { $0.activity = "reading \(path)" }
            job.report(.inspected(path: path, Result { () throws(WhittleError) in
                try wrapping { try ModelInspection.read(path) }
            }))
        case .check(let paths): job.report(.missing(paths.filter { !FileIO.exists($0) }))
        case .tensorErrors(let base, let variant):
            job.publish { $0.activity = "measuring the tensors of \(variant)" }
            job.report(.tensorErrors(variant: variant, Result { () throws(WhittleError) in
                try wrapping { try TensorErrors.measure(base: try LoadedModel.load(base), variant: try LoadedModel.load(variant)) }
            }))
        case .compare(let request):
            let result = Result { () throws(WhittleError) in
                try wrapping {
                    try ComparisonReport.measure(request, progress: { progress in
                        job.publish { $0.activity = describe(progress); $0.progress = fraction(progress) }
                    }, isCancelled: { job.isCancelled })
                }
            }
            job.report(.compared(request, result))
        case .export(let report, let directory):
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let tables = ComparisonTables(report: report)
                try FileIO.writeFile(Array((tables.text(markdown: true) + "\n").utf8), to: directory + "/compare.md", sync: true)
                try FileIO.writeFile(Array((tables.csv() + "\n").utf8), to: directory + "/compare.csv", sync: true)
                try FileIO.writeFile(Array((try report.jsonText() + "\n").utf8), to: directory + "/compare.json", sync: true)
                job.report(.exported(path: directory + "/compare.md"))
            } catch {
                job.report(.exportFailed(TrainingSession.describe(error)))
            }
        case .generate(let models, let prompt, let count, let settings):
            for (index, path) in models.enumerated() {
                job.publish { $0.activity = "generating with \(path)"; $0.progress = JobProgress(completed: index, total: models.count) }
                do {
                    let model = try LoadedModel.load(path)
                    let tokens = try model.tokenizer.encode(prompt)
                    let (_, stats) = try withExtendedLifetime(model) {
                        try Generator.generate(weights: model.weights, prompt: tokens, count: count, settings: settings) { token in
                            job.report(.generated(index: index, text: model.tokenizer.decode([token])))
                        }
                    }
                    job.report(.generationFinished(index: index, stats))
                } catch {
                    job.report(.generationFailed(index: index, TrainingSession.describe(error)))
                }
            }
        }
    }

    /// Model, run and variant directories directly under each root, sorted by name.
    static func list(_ roots: [String]) -> [LibraryEntry] {
        var entries: [LibraryEntry] = []
        for root in roots {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { continue }
            for name in names.sorted() where !name.hasPrefix(".") {
                let path = root + "/" + name
                guard FileIO.isDirectory(path) else { continue }
                if FileIO.exists(path + "/" + Variant.fileName) {
                    entries.append(LibraryEntry(path: path, kind: .variant))
                } else if FileIO.exists(path + "/" + ModelDirectory.configName) {
                    entries.append(LibraryEntry(path: path, kind: .model))
                } else if let checkpoint = try? Checkpoint.newest(in: path) {
                    let step = Int(checkpoint.split(separator: "-").last.map(String.init) ?? "") ?? 0
                    entries.append(LibraryEntry(path: path, kind: .run(step: step)))
                }
            }
        }
        return entries
    }

    static func describe(_ progress: ComparisonReport.Progress) -> String {
        switch progress {
        case .loading(let model): "loading \(model)"
        case .measuringSpeed(let model, let index, let count): "measuring speed of \(model) (\(index)/\(count))"
        case .scoring(let done, let total): "scoring windows \(done)/\(total)"
        }
    }

    static func fraction(_ progress: ComparisonReport.Progress) -> JobProgress {
        switch progress {
        case .loading: JobProgress()
        case .measuringSpeed(_, let index, let count): JobProgress(completed: index - 1, total: count * 2)
        case .scoring(let done, let total): JobProgress(completed: total + done, total: total * 2)
        }
    }

    /// Runs `body`, turning any error into a WhittleError (its own, or a described one).
    private static func wrapping<T>(_ body: () throws -> T) throws(WhittleError) -> T {
        do {
            return try body()
        } catch let error as WhittleError {
            throw error
        } catch {
            throw WhittleError.io(String(describing: error), hint: "")
        }
    }
}
