// `whittle sweep`: runs a grid of training runs that differ in a few settings, each in its own
// process (so its peak RSS is its own), in the engine's ExperimentSession (the workbench's
// Experiments screen runs the same), prints each run's outcome from its events, and writes the
// comparison table as Markdown, CSV and JSON.

import ArgumentParser
import Foundation
import WhittleEngine

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

        \(exitCodeHelp)
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

    @Flag(name: .long, help: "Run even when a run is estimated to take over an hour.")
    var force = false

    func run() throws {
        let (plan, base) = try reportingErrors { () -> (SweepPlan, TrainingConfig) in
            let base = try TrainingConfig.load(path: config)
            let plan = try SweepPlan(base: base, variations: variations, fixed: overrides)
            try plan.checkResources(confirmedLong: force)
            return (plan, base)
        }
        let directory = try out ?? reportingErrors { try RunDirectory.claim(name: "sweep") }
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
        let signals = StopSignals()
        let session = ExperimentSession(plan: ExperimentPlan(sweep: plan, base: base, targetLoss: targetLoss),
                                        directory: directory, launcher: ProcessExperimentLauncher(), configPath: config)
        defer { session.stop() }
        var done = false
        while !done {
            done = session.snapshot().state.isTerminal
            for event in session.takeEvents() { report(event, of: plan.runs.count) }
            if let signal = signals.received {
                session.cancel()
                session.waitUntilDone(timeoutSeconds: 10)
                throw ExitCode(128 + signal)
            }
            if !done { Thread.sleep(forTimeInterval: 0.05) }
        }
        let final = session.snapshot()
        if let failure = final.state.failure {
            try reportingErrors { throw WhittleError.io(failure, hint: "check the --out directory") }
        }
        let results = final.runs.compactMap(\.result)
        let markdown = try reportingErrors {
            try SweepTable.write(results, keys: plan.variedKeys, targetLoss: targetLoss, to: directory)
        }
        print(markdown, terminator: "")
        printError("tables: \(directory)/sweep.md, sweep.csv, sweep.json")
        if results.contains(where: { $0.status != "ok" }) { throw ExitCode(1) }
    }

    /// Prints a queue event on stderr.
    func report(_ event: ExperimentSession.Event, of count: Int) {
        switch event {
        case .runStarted(let index, let name): printError("run \(index + 1)/\(count): \(name)")
        case .runEnded(_, let result) where result.status == "ok":
            printError(String(format: "  val loss %.4f, %.0f tokens/s", result.validationLoss ?? .nan, result.tokensPerSecond ?? 0))
        case .runEnded(_, let result): printError("  " + result.status)
        case .exported, .exportFailed, .failed: break
        }
    }
}
