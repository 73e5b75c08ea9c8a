// `whittle sweep`: runs a grid of training runs that differ in a few settings, each in its own
// process (so its peak RSS is its own), and writes the comparison table as Markdown, CSV and JSON.

import ArgumentParser
import Foundation
import WhittleEngine
import WhittleUI

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a grid of training runs and compare them.",
        discussion: """
        Examples:
          whittle sweep --config configs/shakespeare-char-cpu.toml --vary learning_rate=1e-3,3e-3 --set max_iters=500
          whittle sweep --config configs/shakespeare-char-cpu.toml --vary workers=1,2 --vary checkpointing=false,true --target-loss 2.2
          whittle sweep --config configs/shakespeare-char-cpu.toml --vary optimizer=adamw,lion,sgd --vary precision=fp32,bf16 --set max_iters=300

        Every combination of the --vary values is one run (`whittle train` in a child process, so its peak RSS is its own), in DIR/<key>-<value>_.../ under --out. All combinations are validated before the first run starts. The table lists the whole-split validation loss, the training time until the periodic validation estimate first reached --target-loss, tokens/s, the memory ledger and peak RSS; it is printed as Markdown and written to sweep.md, sweep.csv and sweep.json in the sweep directory.
        """)

    @Option(name: .long, help: "TOML config every run starts from.")
    var config: String

    @Option(name: .customLong("vary"), help: ArgumentHelp("A key and the values to try (repeatable).", valueName: "key=v1,v2"))
    var variations: [String] = []

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a key in every run (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(name: .long, help: "Sweep directory (default: runs/sweep-<date>-<time>).")
    var out: String?

    @Option(name: .long, help: "Validation loss whose first crossing is timed.")
    var targetLoss: Double?

    func run() throws {
        let plan = try reportingErrors { () -> SweepPlan in
            let base = try TrainingConfig.load(path: config)
            let plan = try SweepPlan(base: base, variations: variations, fixed: overrides)
            for run in plan.runs where !FileManager.default.fileExists(atPath: run.config.datasetURL.path) {
                throw WhittleError.data("run \(run.name): the dataset \(run.config.datasetPath) does not exist",
                                        hint: "set dataset=PATH, relative to the directory whittle runs in")
            }
            return plan
        }
        let directory = out ?? defaultDirectory()
        try reportingErrors {
            if FileManager.default.fileExists(atPath: directory + "/sweep.json") {
                throw WhittleError.config("'\(directory)' already holds a sweep", hint: "choose another --out")
            }
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw WhittleError.io("cannot create '\(directory)': \(error.localizedDescription)", hint: "check the path")
            }
        }
        let launcher = ProcessExperimentLauncher()
        let signals = StopSignals()
        var results: [SweepResult] = []
        for (index, run) in plan.runs.enumerated() {
            let runDirectory = directory + "/" + run.name
            printError("run \(index + 1)/\(plan.runs.count): \(run.name)")
            let status = launcher.run(arguments: run.trainArguments(configPath: config, outDirectory: runDirectory),
                                      logPath: runDirectory + ".log") { signals.received != nil }
            if let signal = signals.received { throw ExitCode(signal == SIGINT ? 130 : 143) }
            if status == 0, let result = try? SweepResult.read(run: run, directory: runDirectory,
                                                                 variedKeys: plan.variedKeys, targetLoss: targetLoss) {
                results.append(result)
                printError(String(format: "  val loss %.4f, %.0f tokens/s", result.validationLoss ?? .nan, result.tokensPerSecond ?? 0))
            } else {
                let reason = SweepResult.failureReason(logPath: runDirectory + ".log", status: status)
                results.append(SweepResult.failed(run: run, variedKeys: plan.variedKeys, reason: reason))
                printError("  failed: \(reason)")
            }
        }
        let markdown = try reportingErrors {
            try SweepTable.write(results, keys: plan.variedKeys, targetLoss: targetLoss, to: directory)
        }
        print(markdown, terminator: "")
        printError("tables: \(directory)/sweep.md, sweep.csv, sweep.json")
        if results.contains(where: { $0.status != "ok" }) { throw ExitCode(1) }
    }

    func defaultDirectory() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return "runs/sweep-\(formatter.string(from: Date()))"
    }
}
