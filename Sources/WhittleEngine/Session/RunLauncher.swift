// The file-system side of choosing a run: which directories can be opened, whether a new run's
// settings are valid (the engine's own messages) with a memory estimate computed from the
// dimensions, and the TrainingSession origin for a choice. Synchronous; the workbench calls it
// through a RunLibrary job so none of this touches its UI thread.

import Foundation

/// A new run's shape, data and seed, as the new-run dialog asks for them.
public struct NewRunRequest: Equatable, Sendable {
    public var layers: Int
    public var heads: Int
    public var width: Int
    public var context: Int
    public var dataset: String
    public var seed: UInt64

    public init(layers: Int, heads: Int, width: Int, context: Int, dataset: String, seed: UInt64) {
        self.layers = layers
        self.heads = heads
        self.width = width
        self.context = context
        self.dataset = dataset
        self.seed = seed
    }
}

/// What replaces the current run: a model or run directory to open, or a new run.
public enum RunReplacement: Equatable, Sendable {
    case open(String)
    case start(NewRunRequest)
}

/// A directory that can be opened: a model directory (`step` nil) or a run with a complete checkpoint.
public struct RunEntry: Equatable, Sendable {
    public var path: String
    /// The newest complete checkpoint's step, for run directories.
    public var step: Int?

    public init(path: String, step: Int?) {
        self.path = path
        self.step = step
    }
}

/// A valid new run's size: its parameter count and the memory ledger it will hold (predicted).
public struct NewRunEstimate: Equatable, Sendable {
    public var parameters: Int
    public var ledger: TrainingSession.MemoryLedger
    /// Set when the run is estimated to take longer than `ResourceBudget.longRunSeconds` (the estimate).
    public var longRunWarning: String?
}

/// Lists, checks and resolves runs for the workbench's dialogs.
public struct RunLauncher: Sendable {
    /// Settings a new run starts from (schedule, batch, evaluation...); the dialog sets the shape,
    /// dataset and seed, an opened model its weights and tokenizer (init_from).
    public var baseConfig: TrainingConfig
    /// Directories whose subdirectories are listed.
    public var roots: [String]
    /// Where new runs are created.
    public var runsDirectory: String

    public init(baseConfig: TrainingConfig, roots: [String] = ["sample-models", "runs"], runsDirectory: String = "runs") {
        self.baseConfig = baseConfig
        self.roots = roots
        self.runsDirectory = runsDirectory
    }

    /// Model directories (config.json) and run directories (a complete checkpoint) under `roots`.
    public func listEntries() -> [RunEntry] {
        var entries: [RunEntry] = []
        let files = FileManager.default
        for root in roots {
            guard let names = try? files.contentsOfDirectory(atPath: root) else { continue }
            for name in names.sorted() where !name.hasPrefix(".") {
                let path = root + "/" + name
                var isDirectory: ObjCBool = false
                guard files.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
                if files.fileExists(atPath: path + "/" + ModelDirectory.configName) {
                    entries.append(RunEntry(path: path, step: nil))
                } else if let checkpoint = try? Checkpoint.newest(in: path) {
                    let step = Int(checkpoint.split(separator: "-").last.map(String.init) ?? "") ?? 0
                    entries.append(RunEntry(path: path, step: step))
                }
            }
        }
        return entries
    }

    /// The config of a new run from the dialog's request.
    public func config(for request: NewRunRequest) -> TrainingConfig {
        var config = baseConfig
        config.layerCount = request.layers
        config.headCount = request.heads
        config.embeddingWidth = request.width
        config.contextLength = request.context
        config.datasetPath = request.dataset
        config.seed = request.seed
        config.initFrom = "scratch"
        return config
    }

    /// Validates `request` as the engine will and estimates the run's memory; `vocabulary` returns
    /// the number of distinct characters of a dataset file.
    /// - Throws: `WhittleError` saying what is wrong (the key and what is allowed, or the missing dataset).
    public func estimate(_ request: NewRunRequest, budget: ResourceBudget = .current(),
                         vocabulary: (String) throws -> Int) throws -> NewRunEstimate {
        let config = config(for: request)
        try config.validate()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: config.datasetPath, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw WhittleError.data("dataset '\(config.datasetPath)' does not exist", hint: "check the path")
        }
        let size = try vocabulary(config.datasetPath)
        let model = config.modelConfig(vocabularySize: size)
        var warning: String?
        do {
            try config.checkBudget(model: model, confirmedLong: false, budget: budget)
        } catch let error as WhittleError where error.kind == .needsConfirmation {
            warning = error.message
        }
        return NewRunEstimate(parameters: config.parameterCount(vocabularySize: size),
                              ledger: config.memoryEstimate(vocabularySize: size), longRunWarning: warning)
    }

    /// Distinct characters of the text file at `path` (the character tokenizer's vocabulary).
    public static func vocabularySize(ofFile path: String) throws -> Int {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WhittleError.file("cannot read the dataset '\(path)'", hint: "check the path and permissions")
        }
        let text = String(decoding: data, as: UTF8.self)
        return CharTokenizer(text: text).vocabularySize
    }

    /// The session origin and header name for `replacement`.
    public func origin(for replacement: RunReplacement, now: Date = Date()) throws -> (TrainingSession.Origin, String) {
        func lastComponent(_ path: String) -> String { URL(fileURLWithPath: path).lastPathComponent }
        switch replacement {
        case .open(let path):
            let name = URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
            if !FileManager.default.fileExists(atPath: path + "/" + ModelDirectory.configName),
               try Checkpoint.newest(in: path) != nil {
                return (.resume(directory: path, overrides: []), name)
            }
            _ = try ModelDirectory.resolve(path)
            var config = baseConfig
            config.initFrom = path
            let directory = try RunDirectory.claim(parent: runsDirectory, name: name, now: now)   // unique within a second
            return (.start(config: config, directory: directory), "\(lastComponent(directory)) (model \(name))")
        case .start(let request):
            let directory = try RunDirectory.claim(parent: runsDirectory, name: "\(request.layers)x\(request.width)", now: now)
            return (.start(config: config(for: request), directory: directory), lastComponent(directory))
        }
    }
}
