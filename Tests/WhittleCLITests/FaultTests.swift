// Whole-process faults and concurrent use: a full disk (a 200 KB tmpfs, skipped with the reason
// where mounting is not permitted), two processes on one run directory, two default-named runs in
// one second, and sizes beyond the machine refused with their exit codes.

import Foundation
import Testing
import WhittleTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A tiny tmpfs for disk-full tests; nil when this process may not mount one.
final class TinyFileSystem {
    let path: String
    private let directory = TemporaryDirectory(prefix: "whittle-tmpfs")

    init?(kilobytes: Int) {
        path = directory.path + "/mnt"
        guard mkdir(path, 0o755) == 0,
              mount("tmpfs", path, "tmpfs", 0, "size=\(kilobytes)k") == 0 else { return nil }
    }

    deinit { umount2(path, Int32(MNT_DETACH)) }

    /// Whether tmpfs can be mounted here (root or CAP_SYS_ADMIN).
    static let available: Bool = TinyFileSystem(kilobytes: 8) != nil
}

@Suite struct DiskFull {
    /// Training onto a 200 KB file system fills it at a checkpoint or a log append: exit 74 with the
    /// system's words, no crash, no temporary left, and the run resumes on a disk with space.
    @Test(.enabled(if: TinyFileSystem.available, "mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN)"))
    func fullDiskEndsInExit74AndTheRunResumes() throws {
        let workspace = try Workspace(config: tinyConfig(["max_iters": "100000", "checkpoint_interval": "2",
                                                          "lr_decay_iters": "100000", "eval_interval": "100000"]))
        let disk = try #require(TinyFileSystem(kilobytes: 200))
        let out = disk.path + "/run"
        let result = try workspace.launch(["train", "--config", "config.toml", "--out", out, "--quiet"], timeout: 120).finish()
        #expect(result.status == 74, "\(result.transcript)")
        #expect(result.stderr.contains("No space left on device"), "\(result.transcript)")
        #expect(result.stderr.contains("whittle train --resume") || result.stderr.contains("free some disk space"), "\(result.transcript)")
        let entries = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(!entries.contains { $0.contains(".tmp") }, "leftover temporaries: \(entries)")
        // Moved to a disk with space, the run continues from its newest complete checkpoint.
        try FileManager.default.copyItem(atPath: out, toPath: workspace.path("moved"))
        try? FileManager.default.removeItem(atPath: workspace.path("moved/.lock"))
        let steps = entries.compactMap { $0.hasPrefix("ckpt-") ? Int($0.dropFirst(5)) : nil }.max() ?? 0
        let resumed = try workspace.run("train", "--resume", "moved", "--set", "max_iters=\(steps + 2)", "--quiet")
        #expect(resumed.status == 0, "\(resumed.transcript)")
        #expect(try workspace.logLines("moved").count == steps + 2)
    }
}

@Suite struct ConcurrentWriters {
    /// While one process trains into `run/`, a second `--out run` and a `--resume run` are refused
    /// (exit 75, naming the holder's PID) and change nothing; the first run's log stays its own.
    @Test func aSecondWriterIsRefusedWithTheHoldersPID() throws {
        let workspace = try Workspace(config: tinyConfig(["max_iters": "1000000", "eval_interval": "1000000",
                                                          "lr_decay_iters": "1000000"]))
        let first = try workspace.launch(["train", "--config", "config.toml", "--out", "run"], timeout: 60)
        try waitUntil("two logged steps") { ((try? workspace.logLines("run")) ?? []).count >= 2 || !first.process.isRunning }
        let config = try workspace.read("run/config.toml")
        let second = try workspace.run("train", "--config", "config.toml", "--set", "seed=7", "--out", "run")
        let resume = try workspace.run("train", "--resume", "run")
        #expect(kill(first.pid, SIGINT) == 0)
        let firstResult = first.finish()
        for result in [second, resume] {
            #expect(result.status == 75, "\(result.transcript)")
            #expect(result.stderr.contains("PID \(first.pid)"), "\(result.transcript)")
        }
        #expect(firstResult.status == 130, "\(firstResult.transcript)")
        #expect(try workspace.read("run/config.toml") == config, "config.toml was rewritten by the refused run")
        let lines = try workspace.logLines("run")
        #expect(lines.enumerated().allSatisfy { jsonField($0.element, "step") == String($0.offset + 1) }, "\(lines)")
    }

    /// Two runs without --out started together get two directories.
    @Test func defaultNamesAreUniqueWithinOneSecond() throws {
        let workspace = try Workspace()
        let a = try workspace.launch(["train", "--config", "config.toml", "--quiet"])
        let b = try workspace.launch(["train", "--config", "config.toml", "--quiet"])
        let (resultA, resultB) = (a.finish(), b.finish())
        #expect(resultA.status == 0 && resultB.status == 0, "\(resultA.transcript)\n\(resultB.transcript)")
        #expect(resultA.stdoutText != resultB.stdoutText, "both runs wrote \(resultA.stdoutText)")
    }
}

@Suite struct SizesBeyondTheMachine {
    /// Sizes no machine here can hold end in exit 64 with the predicted figure, before anything is written.
    @Test(arguments: [["train", "--config", "config.toml", "--set", "n_embd=1048576", "--set", "n_head=1", "--out", "run"],
                      ["train", "--config", "config.toml", "--set", "batch_size=1048576", "--set", "n_embd=1024", "--out", "run"],
                      ["train", "--config", "config.toml", "--set", "n_layer=1048576", "--set", "n_embd=4096", "--out", "run"],
                      ["bench", "ui", "--width", "1000000", "--height", "1000000"],
                      ["bench", "ui", "--steps", "100000000000000"],
                      ["generate", "--model", Repository.root.path + "/sample-models/shakespeare-char-tiny", "--tokens", "100000000000"]])
    func refusedWithTheFigure(_ arguments: [String]) throws {
        let workspace = try Workspace()
        let before = workspace.tree()
        let result = try workspace.launch(arguments).finish()
        #expect(result.status == 64, "\(result.transcript)")
        #expect(result.stderr.contains("would need") && result.stderr.contains("this machine allows"), "\(result.transcript)")
        #expect(result.stdout.isEmpty, "\(result.transcript)")
        #expect(workspace.tree() == before)
    }

    /// A run that fits but is estimated to take hours asks for --force (exit 64) and names the estimate.
    @Test func aVeryLongRunAsksForForce() throws {
        let workspace = try Workspace()
        let result = try workspace.run("train", "--config", "config.toml", "--set", "max_iters=1000000000000", "--out", "run")
        #expect(result.status == 64, "\(result.transcript)")
        #expect(result.stderr.contains("would take about") && result.stderr.contains("--force"), "\(result.transcript)")
        #expect(!workspace.exists("run/config.toml"))
    }
}

/// The messages of issue 9 say what is wrong, with the documented exit code.
@Suite struct Messages {
    @Test func aMistypedSubcommandSuggestsTheClosest() throws {
        let result = try Workspace().run("trian")
        #expect(result.status == 64, "\(result.transcript)")
        #expect(result.stderr.contains("unknown subcommand 'trian'") && result.stderr.contains("Did you mean 'train'?"), "\(result.transcript)")
    }

    @Test func aDuplicateTOMLKeyIsNamedAsSuch() throws {
        let workspace = try Workspace(config: tinyConfig() + "n_layer = 2\n")
        let result = try workspace.run("train", "--config", "config.toml", "--out", "run")
        #expect(result.status == 64, "\(result.transcript)")
        #expect(result.stderr.contains("a key is given twice") && !result.stderr.contains("double quotes"), "\(result.transcript)")
    }

    @Test func negativeNumbersAreValuesNotOptions() throws {
        let result = try Workspace().run("bench", "train", "--config", "config.toml", "--steps", "-5")
        #expect(result.status == 64, "\(result.transcript)")
        #expect(result.stderr.contains("--steps must be at least 1 (got -5)"), "\(result.transcript)")
    }

    @Test func resumingARunAlreadyPastMaxItersSaysNothingWasDone() throws {
        let workspace = try Workspace()
        _ = try workspace.trainTinyModel()
        let result = try workspace.run("train", "--resume", "run", "--set", "max_iters=2")
        #expect(result.status == 64, "\(result.transcript)")
        #expect(result.stderr.contains("nothing to train"), "\(result.transcript)")
    }

    @Test func aChangedShapeOnResumeIsNotCalledDamage() throws {
        let workspace = try Workspace()
        _ = try workspace.trainTinyModel()
        let result = try workspace.run("train", "--resume", "run", "--set", "n_embd=32", "--set", "max_iters=8")
        #expect(result.status == 64, "\(result.transcript)")
        #expect(result.stderr.contains("changes the model's shape") && !result.stderr.contains("damaged"), "\(result.transcript)")
    }

    @Test func topKZeroMeansNoLimitAndThePromptHelpIsReadable() throws {
        let workspace = try Workspace()
        _ = try workspace.trainTinyModel()
        let result = try workspace.run("generate", "--model", "run", "--top-k", "0", "--tokens", "5")
        #expect(result.status == 0, "\(result.transcript)")
        let help = try workspace.run("generate", "--help")
        #expect(help.stdoutText.contains("(default: a newline)") && !help.stdoutText.contains("(default: \n"), "\(help.transcript)")
    }

    @Test func everyExitCodeIsInTheHelp() throws {
        for command in [["train"], ["eval"], ["generate"], ["sweep"], ["ui"], ["bench", "train"], ["bench", "ui"]] {
            let help = try Workspace().launch(command + ["--help"]).finish()
            for code in ["64", "65", "70", "74", "75", "129", "130", "143"] {
                #expect(help.stdoutText.contains(code), "\(command) --help does not mention exit \(code)")
            }
        }
    }
}
