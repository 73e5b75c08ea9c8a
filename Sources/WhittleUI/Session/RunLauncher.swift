// The file-system side of the runs-and-models dialogs: which directories can be opened, whether a
// new run's settings are valid (the engine's own messages) with a memory estimate computed from the
// dimensions, and the TrainingSession origin for a choice.

import Foundation
import WhittleEngine

/// Lists, checks and launches runs for the workbench's dialogs.
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
    public func listModels() -> [ModelEntry] {
        var entries: [ModelEntry] = []
        let files = FileManager.default
        for root in roots {
            guard let names = try? files.contentsOfDirectory(atPath: root) else { continue }
            for name in names.sorted() where !name.hasPrefix(".") {
                let path = root + "/" + name
                var isDirectory: ObjCBool = false
                guard files.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
                if files.fileExists(atPath: path + "/" + ModelDirectory.configName) {
                    entries.append(ModelEntry(path: path, detail: "model"))
                } else if let checkpoint = try? Checkpoint.newest(in: path) {
                    let step = Int(checkpoint.split(separator: "-").last.map(String.init) ?? "") ?? 0
                    entries.append(ModelEntry(path: path, detail: "run, step \(NumberFormat.grouped(step))"))
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

    /// Validates `request` as the engine will, and estimates the run's memory; `vocabulary` returns
    /// the number of distinct characters of a dataset file.
    public func check(_ request: NewRunRequest, vocabulary: (String) throws -> Int) -> NewRunCheck {
        let config = config(for: request)
        do {
            try config.validate()
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: config.datasetPath, isDirectory: &isDirectory),
                  !isDirectory.boolValue
            else {
                return .invalid("dataset '\(config.datasetPath)' does not exist")
            }
            let size = try vocabulary(config.datasetPath)
            let ledger = config.memoryEstimate(vocabularySize: size)
            return .valid(
                parameters: config.parameterCount(vocabularySize: size),
                memory: [
                    MemoryCategory(name: "weights", bytes: ledger.weights),
                    MemoryCategory(name: "gradients", bytes: ledger.gradients),
                    MemoryCategory(name: "optimizer", bytes: ledger.optimizer),
                    MemoryCategory(name: "activations", bytes: ledger.activations),
                    MemoryCategory(name: "workspace", bytes: ledger.workspace),
                ])
        } catch let error as WhittleError {
            return .invalid(error.message)
        } catch {
            return .invalid(String(describing: error))
        }
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
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let stamp = formatter.string(from: now)
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
            let directory = "\(runsDirectory)/\(name)-\(stamp)"
            return (.start(config: config, directory: directory), "\(name)-\(stamp) (model \(name))")
        case .start(let request):
            let name = "\(request.layers)x\(request.width)-\(stamp)"
            return (.start(config: config(for: request), directory: "\(runsDirectory)/\(name)"), name)
        }
    }
}
