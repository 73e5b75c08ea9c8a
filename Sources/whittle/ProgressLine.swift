// A one-line progress bar on stderr (only when stderr is a terminal): step, bar, loss,
// tokens/s and ETA, redrawn in place; other messages print above it.

import ArgumentParser
import Foundation
import WhittleEngine

final class ProgressLine {
    let total: Int
    let enabled: Bool
    private var lastDraw: UInt64 = 0
    private var visible = false

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    func update(_ record: StepRecord, history: [StepRecord]) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastDraw > 100_000_000 || record.step == total else { return }
        lastDraw = now
        let recent = history.suffix(20)
        let milliseconds = recent.map(\.milliseconds).reduce(0, +) / Double(recent.count)
        let tokens = Double(record.tokens) / milliseconds * 1000
        let remaining = Double(total - record.step) * milliseconds / 1000
        let width = 24
        let filled = min(width, width * record.step / max(total, 1))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let line = String(format: "\r%6d/%d %@ loss %.4f%@  %6.1f ms/step  %@ tok/s  ETA %@\u{1B}[K",
                          record.step, total, bar, record.loss, distillationTerms(record), milliseconds,
                          formatCount(Int(tokens)), formatDuration(remaining))
        printError(line, terminator: "")
        visible = true
    }

    func printAbove(_ text: String) {
        if enabled && visible { printError("\r\u{1B}[K", terminator: "") }
        printError(text)
        visible = false
    }

    /// " (ce 1.23 kl 0.45 cos 0.12)" for a distillation step, "" otherwise.
    func distillationTerms(_ record: StepRecord) -> String {
        guard let ce = record.crossEntropy, let kl = record.divergence else { return "" }
        let hidden = record.hiddenCosine.map { String(format: " cos %.3f", $0) } ?? ""
        return String(format: " (ce %.3f kl %.3f%@)", ce, kl, hidden)
    }

    func finish() {
        if enabled && visible { printError("") }
        visible = false
    }
}

/// Records the first SIGINT/SIGTERM/SIGHUP so training can stop at a step boundary; a second signal
/// falls through to the default action (immediate exit; the previous checkpoint stays valid).
final class StopSignals: Sendable {
    nonisolated(unsafe) private static var signalNumber: Int32 = 0

    init() {
        // A blocked signal mask is inherited across exec: a parent that launches us from a
        // libdispatch worker thread (Foundation's Process, Swift concurrency) has SIGINT and
        // SIGTERM blocked, so the handlers below would never run. Unblock them on this thread.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        sigaddset(&unblock, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        for signalValue in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalValue) { received in
                StopSignals.signalNumber = received
                signal(received, SIG_DFL)
            }
        }
    }

    /// "Ctrl-C", "SIGTERM", "SIGHUP".
    static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: "Ctrl-C"
        case SIGHUP: "SIGHUP (terminal closed)"
        default: "SIGTERM"
        }
    }

    var received: Int32? { StopSignals.signalNumber == 0 ? nil : StopSignals.signalNumber }
}

/// Steps `run` to its end with a progress line, calling `afterStep` with each step's record (to print
/// above the line). The first SIGINT/SIGTERM/SIGHUP saves a checkpoint at the next step boundary, tells
/// how to resume and exits 128 + signal. Used by `train` and `distill`.
func trainToEnd(_ run: TrainingRun, quiet: Bool, afterStep: (StepRecord, ProgressLine) -> Void = { _, _ in }) throws {
    let trainer = run.trainer
    let signals = StopSignals()
    let progress = ProgressLine(total: trainer.config.maxIterations, enabled: !quiet && standardErrorIsTerminal)
    try reportingErrors {
        while !trainer.isFinished {
            if let signal = signals.received {
                progress.finish()
                let path = try run.saveCheckpoint()
                printError("stopped by \(StopSignals.name(signal)) after step \(trainer.step); checkpoint \(path)")
                printError("resume with: whittle train --resume \(run.directory)")
                throw ExitCode(128 + signal)
            }
            let record = try run.step()
            progress.update(record, history: trainer.history)
            afterStep(record, progress)
            if let warning = record.warning { progress.printAbove("warning: " + warning) }
        }
    }
    progress.finish()
}
