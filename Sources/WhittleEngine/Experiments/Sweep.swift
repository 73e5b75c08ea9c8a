// Experiments: a grid of runs that differ in a few settings (`--vary optimizer=adamw,lion`), checked
// in full before anything runs, and the comparison table of their measured outcomes.

import Foundation

/// One run of a sweep: its name, the overrides that define it and its validated config.
public struct SweepRun: Equatable, Sendable {
    public var name: String
    public var overrides: [String]
    public var config: TrainingConfig

    /// The `whittle` arguments that train this run from `configPath` into `outDirectory`.
    public func trainArguments(configPath: String, outDirectory: String) -> [String] {
        // --force: the queue checked every run's memory and time before the first one started (`checkResources`).
        ["train", "--config", configPath, "--out", outDirectory, "--quiet", "--force"] + overrides.flatMap { ["--set", $0] }
    }

    /// The values of `keys` in this run's config, as typed (strings unquoted).
    public func settings(_ keys: [String]) -> [String: String] {
        var settings: [String: String] = [:]
        for key in keys {
            guard let value = try? config.value(forKey: key) else { continue }
            if case .string(let text) = value { settings[key] = text } else { settings[key] = value.description }
        }
        return settings
    }
}

/// The cartesian product of the varied settings over a base config.
public struct SweepPlan: Sendable {
    public let runs: [SweepRun]
    public let variedKeys: [String]

    /// - Parameters: base: the config every run starts from; variations: `key=v1,v2,...` strings;
    ///   fixed: `key=value` overrides applied to every run. Every combination is validated here.
    public init(base: TrainingConfig, variations: [String], fixed: [String] = []) throws {
        var axes: [(key: String, values: [String])] = []
        for variation in variations {
            guard let equals = variation.firstIndex(of: "=") else {
                throw WhittleError.config("--vary needs key=value1,value2 (got \"\(variation)\")",
                                          hint: "e.g. --vary optimizer=adamw,lion --vary learning_rate=1e-3,3e-4")
            }
            let key = String(variation[..<equals]).trimmingCharacters(in: .whitespaces)
            let values = variation[variation.index(after: equals)...].split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard TrainingConfig.key(named: key) != nil else {
                let suggestion = TrainingConfig.suggestedKey(for: key).map { " (did you mean `\($0)`?)" } ?? ""
                throw WhittleError.config("--vary names an unknown config key `\(key)`\(suggestion)",
                                          hint: "list the keys with `whittle train --list-keys`")
            }
            guard !values.isEmpty else { throw WhittleError.config("--vary \(key)= lists no values") }
            guard !axes.contains(where: { $0.key == key }) else {
                throw WhittleError.config("`\(key)` is varied twice", hint: "list all its values in one --vary")
            }
            axes.append((key, values))
        }
        guard !axes.isEmpty else {
            throw WhittleError.config("a sweep needs at least one --vary key=v1,v2", hint: "e.g. --vary optimizer=adamw,lion")
        }
        var combinations: [[(String, String)]] = [[]]
        for axis in axes {
            combinations = combinations.flatMap { prefix in axis.values.map { prefix + [(axis.key, $0)] } }
        }
        var runs: [SweepRun] = []
        for combination in combinations {
            let overrides = fixed + combination.map { "\($0.0)=\($0.1)" }
            var config = base
            do {
                try config.apply(overrides: overrides)
                try config.validate()
            } catch let error as WhittleError {
                let label = combination.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
                throw WhittleError(error.kind, "run \(label): \(error.message)", hint: error.hint)
            }
            let name = combination.map { "\($0.0)-\(Self.fileSafe($0.1))" }.joined(separator: "_")
            runs.append(SweepRun(name: name, overrides: overrides, config: config))
        }
        self.runs = runs
        variedKeys = axes.map(\.key)
    }

    static func fileSafe(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || "-.+".contains($0) ? $0 : "_" })
    }
}

/// One row of a sweep's table.
public struct SweepResult: Codable, Equatable, Sendable {
    public var name: String
    public var settings: [String: String]
    public var status: String
    public var validationLoss: Double?
    public var validationStandardError: Double?
    public var secondsToTarget: Double?
    public var tokensPerSecond: Double?
    public var medianMilliseconds: Double?
    public var ledgerBytes: Int?
    public var peakResidentBytes: Int?

    enum CodingKeys: String, CodingKey {
        case name, settings, status, validationLoss = "val_loss", validationStandardError = "val_loss_stderr",
             secondsToTarget = "seconds_to_target", tokensPerSecond = "tokens_per_s", medianMilliseconds = "median_ms",
             ledgerBytes = "ledger_bytes", peakResidentBytes = "peak_rss_bytes"
    }

    /// The row of a finished run directory: its summary, and from its log the training time until the
    /// periodic validation estimate first reached `targetLoss`.
    public static func read(run: SweepRun, directory: String, variedKeys: [String], targetLoss: Double?) throws -> SweepResult {
        let summary = try RunSummary.load(runDirectory: directory)
        var seconds: Double?
        if let targetLoss {
            var elapsed = 0.0
            let log = String(decoding: try FileIO.readFile(directory + "/" + TrainingRun.logName), as: UTF8.self)
            for line in log.split(separator: "\n") {
                guard let record = try? JSONDecoder().decode(StepRecord.self, from: Data(line.utf8)) else { continue }
                elapsed += record.milliseconds / 1000
                if let estimate = record.evaluation, Double(estimate.validation) <= targetLoss {
                    seconds = elapsed
                    break
                }
            }
        }
        return SweepResult(name: run.name, settings: run.settings(variedKeys), status: "ok",
                           validationLoss: summary.validation.loss, validationStandardError: summary.validation.standardError,
                           secondsToTarget: seconds, tokensPerSecond: summary.tokensPerSecond,
                           medianMilliseconds: summary.medianMilliseconds, ledgerBytes: summary.ledger.total,
                           peakResidentBytes: summary.ledger.peakResidentBytes)
    }

    /// A row for a run that did not finish.
    public static func failed(run: SweepRun, variedKeys: [String], reason: String) -> SweepResult {
        SweepResult(name: run.name, settings: run.settings(variedKeys), status: "failed: " + reason)
    }

    /// Why a child run failed, from its captured output: its last `error:` line, else its last line.
    public static func failureReason(logPath: String, status: Int32) -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "exit status \(status)" }
        let lines = text.split(separator: "\n")
        // A crash ends in the runtime's backtrace ("Backtrace took 0.00s"): report its fatal message and the signal.
        let fatal = lines.first(where: { $0.contains("Fatal error:") }).map { String($0.drop(while: { $0 != "F" })) }
        if status > 128 {
            return "crashed (signal \(status - 128))" + (fatal.map { ": " + $0 } ?? "")
        }
        return (lines.last(where: { $0.hasPrefix("error:") }) ?? fatal.map { Substring($0) } ?? lines.last).map(String.init)
            ?? "exit status \(status)"
    }
}

/// Renders sweep results as Markdown, CSV or JSON.
public enum SweepTable {
    static func columns(_ keys: [String], targetLoss: Double?) -> [String] {
        keys + ["val loss (whole split)", targetLoss.map { "time to val ≤ \($0)" } ?? "time to target",
                "tokens/s", "ms/step", "ledger MiB", "peak RSS MiB", "status"]
    }

    static func cells(_ r: SweepResult, _ keys: [String]) -> [String] {
        func f(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "–" }
        return keys.map { r.settings[$0] ?? "" } + [
            r.validationLoss.map { String(format: "%.4f ± %.4f", $0, r.validationStandardError ?? 0) } ?? "–",
            f(r.secondsToTarget, "%.1f s"), f(r.tokensPerSecond, "%.0f"), f(r.medianMilliseconds, "%.1f"),
            f(r.ledgerBytes.map { Double($0) / 1_048_576 }, "%.1f"), f(r.peakResidentBytes.map { Double($0) / 1_048_576 }, "%.1f"),
            r.status,
        ]
    }

    public static func markdown(_ results: [SweepResult], keys: [String], targetLoss: Double?) -> String {
        let header = columns(keys, targetLoss: targetLoss)
        var lines = ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
        lines += results.map { "| " + cells($0, keys).joined(separator: " | ") + " |" }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func csv(_ results: [SweepResult], keys: [String], targetLoss: Double?) -> String {
        func quoted(_ cell: String) -> String {
            cell.contains(where: { ",\"\n".contains($0) }) ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
        }
        let header = keys + ["val_loss", "val_loss_stderr", "seconds_to_target", "tokens_per_s", "median_ms",
                             "ledger_bytes", "peak_rss_bytes", "status"]
        func n(_ v: Double?) -> String { v.map { String($0) } ?? "" }
        let rows = results.map { r in
            (keys.map { r.settings[$0] ?? "" } + [n(r.validationLoss), n(r.validationStandardError), n(r.secondsToTarget),
                                                  n(r.tokensPerSecond), n(r.medianMilliseconds),
                                                  r.ledgerBytes.map(String.init) ?? "", r.peakResidentBytes.map(String.init) ?? "",
                                                  r.status]).map(quoted).joined(separator: ",")
        }
        return ([header.joined(separator: ",")] + rows).joined(separator: "\n") + "\n"
    }

    public static func json(_ results: [SweepResult]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(results), as: UTF8.self) + "\n"
    }

    /// Writes sweep.md, sweep.csv and sweep.json into `directory`; returns the Markdown table.
    @discardableResult
    public static func write(_ results: [SweepResult], keys: [String], targetLoss: Double?, to directory: String) throws -> String {
        let markdown = self.markdown(results, keys: keys, targetLoss: targetLoss)
        for (name, text) in [("sweep.md", markdown), ("sweep.csv", csv(results, keys: keys, targetLoss: targetLoss)),
                             ("sweep.json", try json(results))] {
            guard FileManager.default.createFile(atPath: directory + "/" + name, contents: Data(text.utf8)) else {
                throw WhittleError.io("cannot write \(directory)/\(name)", hint: "check permissions and free space")
            }
        }
        return markdown
    }
}

extension SweepPlan {
    /// `SweepRun.checkResources` for every run of the plan.
    public func checkResources(confirmedLong: Bool, budget: ResourceBudget = .current()) throws {
        try SweepRun.checkResources(runs, confirmedLong: confirmedLong, budget: budget)
    }
}

extension SweepRun {
    /// Checks, before the first run starts, that every run's dataset exists and that every run fits
    /// the machine's memory and (unless `confirmedLong`) finishes within `ResourceBudget.longRunSeconds`.
    /// Throws the first problem, naming the run.
    public static func checkResources(_ runs: [SweepRun], confirmedLong: Bool, budget: ResourceBudget = .current()) throws {
        var vocabularies: [String: Int] = [:]
        for run in runs {
            do {
                let path = run.config.datasetURL.path
                guard FileIO.exists(path) else {
                    throw WhittleError.data("the dataset \(run.config.datasetPath) does not exist",
                                            hint: "set dataset=PATH, relative to the directory whittle runs in")
                }
                let vocabulary = try vocabularies[path] ?? RunLauncher.vocabularySize(ofFile: path)
                vocabularies[path] = vocabulary
                try run.config.checkBudget(model: run.config.modelConfig(vocabularySize: vocabulary),
                                           confirmedLong: confirmedLong, budget: budget)
            } catch let error as WhittleError {
                throw WhittleError(error.kind, "run \(run.name): \(error.message)", hint: error.hint)
            }
        }
    }
}
