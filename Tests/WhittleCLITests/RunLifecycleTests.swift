// Whole-process behaviour: exact resume in a new process, Ctrl-C during training, help text,
// and what `eval` writes to a pipe.

import Foundation
import Testing
import WhittleTestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct ResumeAcrossProcesses {
    /// 8 steps straight vs 4 steps, then `--resume --set max_iters=8` in a new process: every logged
    /// loss (and lr, gradient norm, evaluation) is the same text, i.e. the same Float bits.
    @Test func resumedRunMatchesUninterruptedRun() throws {
        let workspace = try Workspace(config: tinyConfig(["max_iters": "8", "checkpoint_interval": "4"]))
        let straight = try workspace.run("train", "--config", "config.toml", "--out", "straight", "--quiet")
        try #require(straight.status == 0, "\(straight.transcript)")
        #expect(straight.stdoutText == "straight/ckpt-000008\n")

        let first = try workspace.run("train", "--config", "config.toml", "--set", "max_iters=4", "--out", "split", "--quiet")
        try #require(first.status == 0, "\(first.transcript)")
        #expect(workspace.exists("split/ckpt-000004/MANIFEST.sha256"))
        #expect(try workspace.logLines("split").count == 4)
        let second = try workspace.run("train", "--resume", "split", "--set", "max_iters=8", "--quiet")
        try #require(second.status == 0, "\(second.transcript)")
        #expect(second.stdoutText == "split/ckpt-000008\n")

        let a = try workspace.logLines("straight"), b = try workspace.logLines("split")
        try #require(a.count == 8 && b.count == 8, "expected 8 log lines each, got \(a.count) and \(b.count)")
        for (index, (lineA, lineB)) in zip(a, b).enumerated() {
            #expect(jsonField(lineA, "step") == String(index + 1))
            #expect(jsonField(lineB, "step") == String(index + 1))
            for key in ["loss", "lr", "grad_norm", "eval", "tokens"] {
                #expect(jsonField(lineA, key) == jsonField(lineB, key),
                        "step \(index + 1): \(key) differs\n  straight: \(lineA)\n  resumed:  \(lineB)")
            }
            let loss = try #require(jsonField(lineA, "loss").flatMap(Float.init))
            let resumedLoss = try #require(jsonField(lineB, "loss").flatMap(Float.init))
            #expect(loss.bitPattern == resumedLoss.bitPattern)
        }
        #expect(jsonField(a[7], "eval") != nil, "step 8 should carry an evaluation (eval_interval 2)")
    }
}

@Suite struct Interrupt {
    /// SIGINT, SIGTERM or SIGHUP (a closed SSH session) after a few logged steps: exit 130, 143 or 129, a message naming the checkpoint,
    /// a complete checkpoint at the last finished step, and a resume that continues from it.
    @Test(arguments: [(SIGINT, Int32(130), "Ctrl-C"), (SIGTERM, Int32(143), "SIGTERM"), (SIGHUP, Int32(129), "SIGHUP")])
    func stopSignalSavesACheckpointAndResumes(_ signal: Int32, _ status: Int32, _ name: String) throws {
        let workspace = try Workspace(config: tinyConfig(["max_iters": "1000000", "eval_interval": "1000000",
                                                          "lr_decay_iters": "1000000"]))
        let process = try workspace.launch(["train", "--config", "config.toml", "--out", "run"], timeout: 30)
        var logged = 0
        try waitUntil("three logged steps", state: { "\(logged) steps logged, running: \(process.process.isRunning)" }) {
            logged = ((try? workspace.logLines("run")) ?? []).count
            return logged >= 3 || !process.process.isRunning
        }
        try #require(logged >= 3, "training ended after \(logged) logged steps:\n\(process.finish().transcript)")
        #expect(kill(process.pid, signal) == 0)
        let result = process.finish()
        #expect(result.status == status, "\(result.transcript)")
        #expect(result.stderr.contains("stopped by \(name)"), "\(result.transcript)")
        #expect(result.stderr.contains("checkpoint run/ckpt-"), "\(result.transcript)")
        #expect(result.stderr.contains("whittle train --resume run"), "\(result.transcript)")

        let entries = try FileManager.default.contentsOfDirectory(atPath: workspace.path("run")).sorted()
        let checkpoints = entries.filter { $0.hasPrefix("ckpt-") }
        try #require(checkpoints.count == 1, "expected one checkpoint, found \(entries)")
        #expect(!entries.contains { $0.contains(".tmp") || $0.contains(".old") }, "leftover temporaries: \(entries)")
        let checkpoint = checkpoints[0]
        let step = try #require(Int(checkpoint.dropFirst("ckpt-".count)))
        #expect(workspace.exists("run/\(checkpoint)/MANIFEST.sha256"))
        let lines = try workspace.logLines("run")
        #expect(lines.count == step, "the log has \(lines.count) steps, the checkpoint is at step \(step)")
        #expect(lines.last.flatMap { jsonField($0, "step") } == String(step))

        let resumed = try workspace.run("train", "--resume", "run", "--set", "max_iters=\(step + 2)", "--quiet")
        #expect(resumed.status == 0, "\(resumed.transcript)")
        #expect(resumed.stdoutText == "run/\(String(format: "ckpt-%06d", step + 2))\n", "\(resumed.transcript)")
        let after = try workspace.logLines("run")
        #expect(after.count == step + 2)
        #expect(after.enumerated().allSatisfy { jsonField($0.element, "step") == String($0.offset + 1) })
    }
}

@Suite struct HelpAndOutput {
    @Test(arguments: [["train"], ["eval"], ["generate"], ["bench", "train"]])
    func helpShowsExamples(_ subcommand: [String]) throws {
        let workspace = try Workspace()
        let result = try workspace.launch(subcommand + ["--help"]).finish()
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.stdoutText.contains("Examples:"), "\(result.transcript)")
        #expect(result.stdoutText.contains("whittle " + subcommand.joined(separator: " ") + " --"), "\(result.transcript)")
    }

    /// With stdout a pipe (and a colour terminal in TERM) `eval` writes plain text; `--json` is JSON.
    @Test func evalWritesPlainTextAndJSONToAPipe() throws {
        let workspace = try Workspace()
        let checkpoint = try workspace.trainTinyModel()
        let text = try workspace.run("eval", "--model", "run", environment: ["TERM": "xterm-256color"])
        #expect(text.status == 0, "\(text.transcript)")
        #expect(!text.stdout.contains(0x1B), "ESC byte on stdout\n\(text.transcript)")
        #expect(!text.stderr.contains("\u{1B}"), "ESC byte on stderr (not a terminal)\n\(text.transcript)")
        #expect(text.stdoutText.contains("perplexity"))
        #expect(text.stdoutText.contains(checkpoint))

        let json = try workspace.run("eval", "--model", checkpoint, "--json", environment: ["TERM": "xterm-256color"])
        #expect(json.status == 0, "\(json.transcript)")
        #expect(!json.stdout.contains(0x1B))
        let report = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any], "\(json.transcript)")
        let result = try #require(report["result"] as? [String: Any], "\(json.transcript)")
        for key in ["loss", "perplexity", "accuracy"] {
            let value = try #require(result[key] as? Double, "result.\(key) missing\n\(json.transcript)")
            #expect(value.isFinite)
        }
        #expect(report["context_length"] as? Int == 8)
    }
}
