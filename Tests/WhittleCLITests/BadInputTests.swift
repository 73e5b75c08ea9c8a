// Bad input to `whittle train`, `eval` and `generate` (notes/reliability.md §5, issue 2's acceptance
// list): each is refused with the right exit status, a message naming the field or file, and
// nothing written — no run directory, no checkpoint, no log.

import Foundation
import Testing

@Suite struct TrainRefusesBadConfig {
    /// Runs `train --config config.toml --out run` on a workspace whose config has `changes`.
    func refuse(_ changes: [String: String], extra: [String] = [], status: Int32 = 64, mentioning: [String],
                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let workspace = try Workspace(config: tinyConfig(changes))
        let before = workspace.tree()
        let result = try workspace.launch(["train", "--config", "config.toml", "--out", "run"] + extra).finish()
        expectRefused(result, status: status, mentioning: mentioning, workspace: workspace, unchanged: before,
                      sourceLocation: sourceLocation)
    }

    @Test func widthNotDivisibleByHeads() throws {
        try refuse(["n_embd": "15"], mentioning: ["n_embd (15)", "n_head (2)", "divisible"])
    }

    @Test func negativeLearningRate() throws {
        try refuse(["learning_rate": "-0.001"], mentioning: ["learning_rate", "-0.001"])
    }

    @Test func nanLearningRateFromCommandLine() throws {
        try refuse([:], extra: ["--set", "learning_rate=nan"], mentioning: ["learning_rate", "nan"])
    }

    @Test func beta1OfOne() throws {
        try refuse(["beta1": "1.0"], mentioning: ["beta1", "[0, 1)", "1.0"])
    }

    @Test func negativeBeta2() throws {
        try refuse(["beta2": "-0.1"], mentioning: ["beta2", "[0, 1)", "-0.1"])
    }

    @Test func unknownKeyWithSuggestion() throws {
        try refuse(["learnig_rate": "1e-3"], mentioning: ["unknown key `learnig_rate`", "config.toml", "did you mean `learning_rate`?"])
    }

    @Test func unknownKeyFromCommandLine() throws {
        try refuse([:], extra: ["--set", "lr=3e-4"], mentioning: ["unknown key `lr`", "did you mean `learning_rate`?"])
    }

    @Test func wrongTypeInFile() throws {
        try refuse(["n_layer": "\"two\""], mentioning: ["`n_layer`", "config.toml", "integer"])
    }

    @Test func floatForIntegerFromCommandLine() throws {
        try refuse([:], extra: ["--set", "max_iters=1.5"], mentioning: ["`max_iters`", "integer", "1.5"])
    }

    @Test func missingDatasetFile() throws {
        try refuse(["dataset": "\"no-such-corpus.txt\""], status: 74, mentioning: ["no-such-corpus.txt", "No such file"])
    }

    @Test func missingConfigFile() throws {
        let workspace = try Workspace()
        let before = workspace.tree()
        let result = try workspace.run("train", "--config", "missing.toml", "--out", "run")
        expectRefused(result, status: 74, mentioning: ["missing.toml", "does not exist"], workspace: workspace, unchanged: before)
    }

    /// Argument-parser validation (neither --config nor --resume) exits 64 with a usage line.
    @Test func neitherConfigNorResume() throws {
        let workspace = try Workspace()
        let before = workspace.tree()
        let result = try workspace.run("train")
        #expect(result.status == 64, "\(result.transcript)")
        #expect(result.stderr.contains("--config") && result.stderr.contains("--resume"), "\(result.transcript)")
        #expect(workspace.tree() == before)
    }
}

@Suite struct TrainRefusesBadCorpus {
    func refuse(corpus: [UInt8], status: Int32 = 65, mentioning: [String],
                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let workspace = try Workspace(corpus: corpus)
        let before = workspace.tree()
        let result = try workspace.run("train", "--config", "config.toml", "--out", "run")
        expectRefused(result, status: status, mentioning: mentioning, workspace: workspace, unchanged: before,
                      sourceLocation: sourceLocation)
    }

    @Test func emptyCorpus() throws {
        try refuse(corpus: [], mentioning: ["corpus.txt", "is empty"])
    }

    /// 11 characters: the training split gets 9 tokens, but block_size 8 needs 8 + 2.
    @Test func corpusShorterThanTwoWindows() throws {
        try refuse(corpus: Array("the cat sat".utf8), mentioning: ["training split has 9 tokens", "context length of 8", "at least 10"])
    }

    /// Long enough overall, but the last 10% (the validation split) is shorter than block_size + 2.
    @Test func validationSplitTooShort() throws {
        try refuse(corpus: Array(String(tinyCorpus.prefix(60)).utf8), mentioning: ["validation split has 6 tokens", "at least 10"])
    }

    @Test func invalidUTF8SaysWhere() throws {
        let bytes = Array("the cat sat.\nthe do".utf8) + [0xFF] + Array("g.\n".utf8)
        try refuse(corpus: bytes + Array(tinyCorpus.utf8), mentioning: ["corpus.txt", "not valid UTF-8", "0xFF", "offset 19", "line 2, column 7"])
    }
}

/// A run that never reached a complete checkpoint is not a dead end: `--resume` restarts it in place from step 0.
@Suite struct ResumeWithoutCheckpoint {
    @Test func directoryWithoutCheckpointsRestartsFromStepZero() throws {
        let workspace = try Workspace()
        try FileManager.default.createDirectory(atPath: workspace.path("run"), withIntermediateDirectories: false)
        try workspace.write("run/config.toml", text: tinyConfig())
        let result = try workspace.run("train", "--resume", "run")
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.stderr.contains("had no checkpoint: restarted from step 0"), "\(result.transcript)")
        #expect(try workspace.logLines("run").count == 4)
        #expect(FileManager.default.fileExists(atPath: workspace.path("run/ckpt-000004/MANIFEST.sha256")))
    }

    /// A checkpoint directory without its manifest was never completely written: it is not resumed,
    /// the run restarts from step 0 instead and replaces it.
    @Test func onlyAnIncompleteCheckpointRestartsFromStepZero() throws {
        let workspace = try Workspace()
        let checkpoint = try workspace.trainTinyModel()
        try FileManager.default.removeItem(atPath: workspace.path(checkpoint + "/MANIFEST.sha256"))
        let result = try workspace.run("train", "--resume", "run", "--set", "max_iters=8")
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.stderr.contains("restarted from step 0"), "\(result.transcript)")
        #expect(try workspace.logLines("run").count == 8)
        #expect(FileManager.default.fileExists(atPath: workspace.path("run/ckpt-000008/MANIFEST.sha256")))
    }

    @Test func missingDirectory() throws {
        let workspace = try Workspace()
        let before = workspace.tree()
        let result = try workspace.run("train", "--resume", "nowhere")
        expectRefused(result, status: 65, mentioning: ["no run directory at 'nowhere'"], workspace: workspace, unchanged: before)
    }
}

@Suite struct ModelDirectoryErrors {
    static let modelFiles = ["config.json", "tokenizer.json", "model.safetensors"]

    func refuse(_ arguments: [String], in workspace: Workspace, status: Int32 = 65, mentioning: [String],
                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = workspace.tree()
        let result = try workspace.launch(arguments).finish()
        expectRefused(result, status: status, mentioning: mentioning, workspace: workspace, unchanged: before,
                      sourceLocation: sourceLocation)
    }

    @Test func missingDirectory() throws {
        let workspace = try Workspace()
        try refuse(["eval", "--model", "nowhere"], in: workspace, mentioning: ["no model directory at 'nowhere'"])
        try refuse(["generate", "--model", "nowhere"], in: workspace, mentioning: ["no model directory at 'nowhere'"])
    }

    @Test func directoryWithoutModel() throws {
        let workspace = try Workspace()
        try FileManager.default.createDirectory(atPath: workspace.path("empty"), withIntermediateDirectories: false)
        try refuse(["eval", "--model", "empty"], in: workspace, mentioning: ["'empty' holds neither a model"])
    }

    @Test func missingWeights() throws {
        let workspace = try Workspace()
        let checkpoint = try workspace.trainTinyModel()
        // A checkpoint: its manifest lists the missing file.
        try FileManager.default.removeItem(atPath: workspace.path(checkpoint + "/model.safetensors"))
        try refuse(["eval", "--model", checkpoint], in: workspace,
                   mentioning: ["\(checkpoint)/model.safetensors' is missing", "MANIFEST.sha256"])
        // A plain model directory (no manifest): same exit status, the file named.
        try workspace.copyModel(from: checkpoint, to: "model", files: ["config.json", "tokenizer.json"])
        try refuse(["eval", "--model", "model"], in: workspace, mentioning: ["model has no model.safetensors"])
    }

    @Test func truncatedWeights() throws {
        let workspace = try Workspace()
        let checkpoint = try workspace.trainTinyModel()
        try workspace.copyModel(from: checkpoint, to: "model", files: Self.modelFiles)
        let weights = try workspace.read(checkpoint + "/model.safetensors")
        let truncated = Array(weights.prefix(weights.count / 2))
        // Plain model directory: the safetensors reader itself rejects the short file.
        try workspace.write("model/model.safetensors", truncated)
        try refuse(["eval", "--model", "model"], in: workspace,
                   mentioning: ["model/model.safetensors", "invalid safetensors file", "truncated"])
        // Checkpoint: the manifest catches it first.
        try workspace.write(checkpoint + "/model.safetensors", truncated)
        try refuse(["eval", "--model", checkpoint], in: workspace,
                   mentioning: ["\(checkpoint)/model.safetensors' does not match its SHA-256", "MANIFEST.sha256"])
    }

    @Test func corruptedByte() throws {
        let workspace = try Workspace()
        let checkpoint = try workspace.trainTinyModel()
        var weights = [UInt8](try workspace.read(checkpoint + "/model.safetensors"))
        weights[weights.count - 5] ^= 0x01     // one bit of the last tensor's data
        try workspace.write(checkpoint + "/model.safetensors", weights)
        let message = "\(checkpoint)/model.safetensors' does not match its SHA-256 in MANIFEST.sha256"
        try refuse(["eval", "--model", checkpoint], in: workspace, mentioning: [message])
        try refuse(["eval", "--model", "run"], in: workspace, mentioning: [message])
        try refuse(["generate", "--model", "run", "--prompt", "the"], in: workspace, mentioning: [message])
        try refuse(["train", "--resume", "run", "--set", "max_iters=8"], in: workspace, mentioning: [message])
    }
}

@Suite struct UnknownCharacters {
    @Test func generateNamesThemThenSkipsThem() throws {
        let workspace = try Workspace()
        let checkpoint = try workspace.trainTinyModel()
        let before = workspace.tree()
        let refused = try workspace.run("generate", "--model", checkpoint, "--prompt", "Zebra €", "--tokens", "5")
        expectRefused(refused, status: 65, mentioning: ["'Z' (U+005A)", "'€' (U+20AC)", "--skip-unknown"],
                      workspace: workspace, unchanged: before)

        let skipped = try workspace.run("generate", "--model", checkpoint, "--prompt", "Zebra €", "--tokens", "5",
                                        "--skip-unknown", "--temperature", "0")
        #expect(skipped.status == 0, "\(skipped.transcript)")
        #expect(skipped.stdoutText.hasPrefix("Zebra €"), "\(skipped.transcript)")
        #expect(skipped.stdoutText.unicodeScalars.count > "Zebra €".unicodeScalars.count, "no tokens generated\n\(skipped.transcript)")
    }

    @Test func evalDataNamesThemThenSkipsThem() throws {
        let workspace = try Workspace()
        let checkpoint = try workspace.trainTinyModel()
        try workspace.write("other.txt", text: "The cat sat on the mat. " + String(tinyCorpus.prefix(200)))
        let before = workspace.tree()
        let refused = try workspace.run("eval", "--model", checkpoint, "--data", "other.txt")
        expectRefused(refused, status: 65, mentioning: ["'T' (U+0054)"], workspace: workspace, unchanged: before)

        let skipped = try workspace.run("eval", "--model", checkpoint, "--data", "other.txt", "--skip-unknown", "--json")
        #expect(skipped.status == 0, "\(skipped.transcript)")
        let report = try JSONSerialization.jsonObject(with: skipped.stdout) as? [String: Any]
        #expect(report?["skipped_characters"] as? Int == 1, "\(skipped.transcript)")
    }

    /// A text with fewer than block_size + 1 tokens has no complete window.
    @Test func evalDataShorterThanOneWindow() throws {
        let workspace = try Workspace()
        let checkpoint = try workspace.trainTinyModel()
        try workspace.write("short.txt", text: "the cat")
        let before = workspace.tree()
        let refused = try workspace.run("eval", "--model", checkpoint, "--data", "short.txt")
        expectRefused(refused, status: 65, mentioning: ["7 tokens", "at least 9"], workspace: workspace, unchanged: before)
    }

    /// A window longer than the model's positions (n_positions = block_size = 8) has no position embedding.
    @Test func evalContextLongerThanPositions() throws {
        let workspace = try Workspace()
        let checkpoint = try workspace.trainTinyModel()
        let before = workspace.tree()
        let refused = try workspace.run("eval", "--model", checkpoint, "--context", "9")
        expectRefused(refused, status: 64, mentioning: ["9 tokens", "n_positions", "--context 8"], workspace: workspace, unchanged: before)
    }
}

@Suite struct WorkbenchRefusesBadOptions {
    /// An unknown theme is refused before the terminal is touched (even without one), listing the themes.
    @Test func unknownTheme() throws {
        let workspace = try Workspace()
        try FileManager.default.createDirectory(atPath: workspace.path("themes"), withIntermediateDirectories: true)
        try workspace.write("themes/dusk.theme", text: "theme[main_fg]=\"#ddeeff\"\n")
        let before = workspace.tree()
        let result = try workspace.launch(["ui", "--theme", "nosuch"]).finish()
        expectRefused(result, status: 64, mentioning: ["unknown theme 'nosuch'", "available themes:", "dusk"],
                      workspace: workspace, unchanged: before)
    }
}
